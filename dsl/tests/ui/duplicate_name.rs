// One name declared twice (a coordinate and a field), and two terms with one name.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "dup";
        coords { x in [0.0, 1.0] }
        fields { x: scalar, u: scalar }
        residual r: lap(u, x) = 1.0;
        residual r: u = 0.0;
    };
}
