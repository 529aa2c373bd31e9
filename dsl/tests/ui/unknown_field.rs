// A misspelt field inside a derivative.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "heat";
        coords { x in [0.0, 1.0], t in [0.0, 1.0] }
        fields { u: scalar }
        residual heat: d(uu, t) = d(u, x, x);
    };
}
