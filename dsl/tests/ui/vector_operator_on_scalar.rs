// `div` needs a vector field.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "continuity";
        coords { x in R^2, t in [0.0, 1.0] }
        fields { v: scalar, mu: vector(2) }
        residual c: d(v, t) = -div(v, x);
    };
}
