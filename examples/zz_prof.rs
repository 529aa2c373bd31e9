use physgrad::Tensor;
use std::time::Instant;
fn main() {
    let a = Tensor::randn(&[4096, 64], 1);
    let w = Tensor::randn(&[64, 64], 2);
    let b = Tensor::randn(&[64], 2);
    for _ in 0..3 {
        let t = Instant::now(); let c = physgrad::tensor::kernels::matmul(&a, &w, false, false); println!("matmul {:?}", t.elapsed());
        let t = Instant::now(); let d = physgrad::tensor::kernels::binary("add", &c, &b, |x,y| x+y); println!("bias add {:?}", t.elapsed());
        let t = Instant::now(); let _e = physgrad::tensor::kernels::tanh(&d); println!("tanh {:?}", t.elapsed());
        let t = Instant::now(); let _e = physgrad::tensor::kernels::sum_to(&d, &[64]); println!("sum_to {:?}", t.elapsed());
        let t = Instant::now(); let _e = physgrad::tensor::kernels::matmul(&a, &c, true, false); println!("matmul tn {:?}", t.elapsed());
        let x2 = Tensor::randn(&[4096, 2], 1); let w2 = Tensor::randn(&[2, 64], 1);
        let t = Instant::now(); let _e = physgrad::tensor::kernels::matmul(&x2, &w2, false, false); println!("matmul k=2 {:?}", t.elapsed());
        let sm = Tensor::randn(&[64, 20], 1); let ws = Tensor::randn(&[20, 20], 1);
        let t = Instant::now(); for _ in 0..100 { let _e = physgrad::tensor::kernels::matmul(&sm, &ws, false, false); } println!("small matmul x100 {:?}", t.elapsed());
    }
}
