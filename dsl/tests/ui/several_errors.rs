// Several mistakes are reported in one compile.
fn main() {
    let _ = physgrad_dsl::pde! {
        name: "many";
        coords { x in [0.0, 1.0], t in [0.0, 1.0] }
        fields { u: scalar }
        residual a: d(u, t) = nu * d(u, x, x);
        boundary b at x = mid: u = 0.0;
        invariance c: maen(u) = 0.5;
    };
}
