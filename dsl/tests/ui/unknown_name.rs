// A misspelt parameter in a value position.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "burgers";
        coords { x in [0.0, 1.0], t in [0.0, 1.0] }
        params { nu in [0.001, 0.05] }
        fields { u: scalar }
        residual burgers: d(u, t) + u * d(u, x) = mu * d(u, x, x);
    };
}
