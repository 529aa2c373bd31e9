//! Ordered parallel maps on scoped threads.
//!
//! Independent pieces of work whose results must come back in their original order (the shards
//! of a data-parallel training step, the chunks of particles a flow moves) run through
//! [`ordered_map`]: the items are dealt round-robin to the threads, the calling thread among
//! them, and the results are put back by index. With one thread it is a plain loop, so a
//! caller's results do not depend on the thread count beyond what its own items compute.

/// `f(0), …, f(n − 1)` on up to `threads` scoped threads (the calling thread is one of them;
/// item `i` runs on thread `i mod threads`), returned in index order. `threads ≤ 1` or `n ≤ 1`
/// runs every item on the calling thread.
///
/// # Panics
/// If `f` panics on an item: on the calling thread the panic propagates; on another thread it
/// is re-raised naming `what`.
pub fn ordered_map<T: Send>(
    what: &str,
    n: usize,
    threads: usize,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = (1..threads)
            .map(|k| {
                scope.spawn(move || {
                    (k..n)
                        .step_by(threads)
                        .map(|i| (i, f(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for i in (0..n).step_by(threads) {
            slots[i] = Some(f(i));
        }
        for h in handles {
            let done = h
                .join()
                .unwrap_or_else(|_| panic!("{what}: a worker thread panicked"));
            for (i, v) in done {
                slots[i] = Some(v);
            }
        }
    });
    slots
        .into_iter()
        .map(|s| s.expect("ordered_map: every item ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ordered_map;
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[test]
    fn results_come_back_in_order_from_several_threads() {
        let seen = Mutex::new(HashSet::new());
        let out = ordered_map("test", 11, 3, |i| {
            seen.lock().unwrap().insert(std::thread::current().id());
            // Uneven work, so that the threads finish out of order.
            std::thread::sleep(std::time::Duration::from_millis((11 - i as u64) % 4));
            i * i
        });
        assert_eq!(out, (0..11).map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(seen.lock().unwrap().len(), 3, "three threads took part");
    }

    #[test]
    fn degenerate_counts_run_on_the_calling_thread() {
        let me = std::thread::current().id();
        assert!(ordered_map("test", 0, 4, |i| i).is_empty());
        assert_eq!(
            ordered_map("test", 1, 4, |_| std::thread::current().id()),
            vec![me]
        );
        let out = ordered_map("test", 3, 0, |i| (i, std::thread::current().id()));
        assert_eq!(out, vec![(0, me), (1, me), (2, me)]);
    }

    #[test]
    #[should_panic(expected = "test: a worker thread panicked")]
    fn a_panic_on_a_worker_names_the_caller() {
        ordered_map("test", 4, 2, |i| assert!(i != 3, "item 3 fails"));
    }
}
