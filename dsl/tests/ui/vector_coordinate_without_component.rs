// `d(u, x)` with `x` a vector coordinate: which component?
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "advection";
        coords { x in R^2, t in [0.0, 1.0] }
        fields { u: scalar }
        residual r: d(u, t) + d(u, x) = 0.0;
    };
}
