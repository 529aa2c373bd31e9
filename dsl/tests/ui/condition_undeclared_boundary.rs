// A boundary that an interval does not have, and one of an unbounded coordinate.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "heat";
        coords { x in [0.0, 1.0], y in R^2, t in [0.0, 1.0] }
        fields { u: scalar }
        residual heat: d(u, t) = d(u, x, x);
        boundary wall at x = top: u = 0.0;
        boundary far at y: u = 0.0;
    };
}
