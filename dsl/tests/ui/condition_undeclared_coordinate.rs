// An initial condition on a coordinate that is not declared.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "heat";
        coords { x in [0.0, 1.0], t in [0.0, 1.0] }
        fields { u: scalar }
        residual heat: d(u, t) = d(u, x, x);
        initial ic at s = lo: u = sin(PI * x);
    };
}
