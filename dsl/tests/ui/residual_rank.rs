// The two sides of an equation have different ranks.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "rank";
        coords { x in R^2, t in [0.0, 1.0] }
        fields { u: scalar }
        residual r: d(u, t) = grad(u, x);
    };
}
