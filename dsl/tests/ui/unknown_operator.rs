// A misspelt operator.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "poisson";
        coords { x in box [[0.0, 1.0], [0.0, 1.0]] }
        fields { u: scalar }
        residual poisson: lapl(u, x) = 1.0;
    };
}
