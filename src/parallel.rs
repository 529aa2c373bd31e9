//! Ordered parallel maps on scoped threads.
//!
//! Independent pieces of work whose results must come back in their original order (the shards
//! of a data-parallel training step, the chunks of particles a flow moves) run through
//! [`ordered_map`]: the items are dealt round-robin to the threads, the calling thread among
//! them, and the results are put back by index. With one thread it is a plain loop, so a
//! caller's results do not depend on the thread count beyond what its own items compute.

use std::cell::Cell;

thread_local! {
    /// Set while this thread runs the items of an [`ordered_map`] with several threads.
    static IN_ITEMS: Cell<bool> = const { Cell::new(false) };
}

/// Threads a kernel may spread one operation over: rayon's pool, except inside the items of an
/// [`ordered_map`] running on several threads, where it is 1.
///
/// The items already keep every thread busy. A kernel that split its work there handed half of
/// it from a scoped thread to rayon's pool and waited: more threads than cores, and a wake-up of
/// a sleeping thread per hand-over. Measured on this project's 2-core machine with the training
/// step of `pinn_sampling` (`--time-step`, 16 tapes dealt to two threads): the Many-Well d = 50
/// ODE step took 57–58 ms with the kernels splitting, 35.8–35.9 ms without; the GMM ODE step
/// (two tapes) 9.7–9.9 ms against 6.1–8.0 ms.
pub fn kernel_threads() -> usize {
    if IN_ITEMS.with(Cell::get) {
        1
    } else {
        rayon::current_num_threads()
    }
}

/// Marks this thread as running [`ordered_map`] items until dropped (restoring the old mark, so
/// nesting and unwinding leave it as it was).
struct ItemsGuard(bool);

impl ItemsGuard {
    fn enter() -> Self {
        ItemsGuard(IN_ITEMS.with(|c| c.replace(true)))
    }
}

impl Drop for ItemsGuard {
    fn drop(&mut self) {
        IN_ITEMS.with(|c| c.set(self.0));
    }
}

/// `f(0), …, f(n − 1)` on up to `threads` scoped threads (the calling thread is one of them;
/// item `i` runs on thread `i mod threads`), returned in index order. `threads ≤ 1` or `n ≤ 1`
/// runs every item on the calling thread. With several threads, the kernels inside the items
/// run on their item's thread ([`kernel_threads`]).
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
                    let _items = ItemsGuard::enter();
                    (k..n)
                        .step_by(threads)
                        .map(|i| (i, f(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        {
            let _items = ItemsGuard::enter();
            for i in (0..n).step_by(threads) {
                slots[i] = Some(f(i));
            }
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
    use super::{kernel_threads, ordered_map};
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

    #[test]
    fn kernels_stay_on_one_thread_inside_items_on_several_threads() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            assert_eq!(kernel_threads(), 3);
            // Several threads: every item, the calling thread's too, sees one.
            assert_eq!(ordered_map("test", 5, 2, |_| kernel_threads()), vec![1; 5]);
            assert_eq!(kernel_threads(), 3, "the mark is lifted afterwards");
            // One thread: a plain loop, so the kernels may use the pool.
            assert_eq!(ordered_map("test", 3, 1, |_| kernel_threads()), vec![3; 3]);
            // A panic on the calling thread's item lifts the mark too.
            let caught = std::panic::catch_unwind(|| {
                ordered_map("test", 4, 2, |i| assert!(i != 2, "item 2 fails"));
            });
            assert!(caught.is_err());
            assert_eq!(kernel_threads(), 3, "the mark is lifted after a panic");
        });
    }
}
