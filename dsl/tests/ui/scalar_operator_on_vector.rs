// `lap` needs a scalar field.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "heat";
        coords { x in R^2, t in [0.0, 1.0] }
        fields { v: scalar, mu: vector(2) }
        residual h: d(v, t) = lap(mu, x);
    };
}
