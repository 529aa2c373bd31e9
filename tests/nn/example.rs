//! The `fourier_field` example in a reduced configuration.

#[allow(dead_code)]
#[path = "../../examples/fourier_field.rs"]
mod fourier_field;

#[test]
fn fourier_field_example_trains_logs_and_reloads_its_best_checkpoint() {
    let dir = std::env::temp_dir().join(format!("physgrad-fourier-field-{}", std::process::id()));
    let s = fourier_field::run(200, &dir, true).unwrap();
    assert!(
        s.best_val < 0.4 * s.first_val,
        "{} → {}",
        s.first_val,
        s.best_val
    );
    assert_eq!(s.reloaded_val, s.best_val);
    assert_eq!(s.rows, 8);
    let csv = std::fs::read_to_string(dir.join("loss.csv")).unwrap();
    assert_eq!(csv.lines().count(), 9);
    std::fs::remove_dir_all(&dir).unwrap();
}
