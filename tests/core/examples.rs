//! The examples' reduced configurations, so the suite catches regressions in what they print.

#[allow(dead_code)]
#[path = "../../examples/quickstart.rs"]
mod quickstart;

#[test]
fn quickstart_trains_and_its_gradients_check_out() {
    let trained = quickstart::train(400, 0);
    assert!(
        trained.last_loss < trained.first_loss * 0.1,
        "400 steps should cut the Sobolev loss tenfold: {} → {}",
        trained.first_loss,
        trained.last_loss
    );
    let (first, second) = quickstart::check(&trained.params);
    assert!(first.worst_ratio <= 1.0 && second.worst_ratio <= 1.0);
    assert!(trained.csv.lines().count() == 402);
    let dir = std::env::temp_dir().join(format!("physgrad-quickstart-{}", std::process::id()));
    quickstart::write_outputs(&trained, &dir).unwrap();
    let svg = std::fs::read_to_string(dir.join("fit.svg")).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
