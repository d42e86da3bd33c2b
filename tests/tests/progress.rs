//! Progress counters of `map` and `as_completed` (done, in flight, total),
//! and, with the `indicatif` feature, the progress-bar adaptor.

mod support;

use executor::{as_completed, MapOptions, ThreadPoolExecutor};
use support::Gate;

#[test]
fn map_counts_add_up_after_every_item() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .build()
        .unwrap();
    let n = 500;
    let mut map = pool.map_with(0..n, |x| x * 2, MapOptions::new().window(16));
    assert_eq!(map.total(), Some(n));
    assert_eq!(map.done(), 0);
    let mut yielded = 0;
    while let Some(r) = map.next() {
        assert_eq!(r.unwrap(), yielded * 2);
        yielded += 1;
        assert_eq!(map.done(), yielded);
        assert!(
            map.in_flight() <= 16,
            "the window bounds it: {}",
            map.in_flight()
        );
        assert!(map.done() + map.in_flight() <= n);
        assert_eq!(map.total(), Some(n));
    }
    assert_eq!((map.done(), map.in_flight(), map.total()), (n, 0, Some(n)));
}

#[test]
fn map_total_is_unknown_until_an_inexact_input_runs_out() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    let odd = (0..1000_u32).filter(|x| x % 2 == 1);
    let mut map = pool.map_with(odd, |x| x, MapOptions::new().window(8));
    assert_eq!(map.total(), None);
    let first: Vec<u32> = map.by_ref().take(10).map(Result::unwrap).collect();
    assert_eq!(first, (0..10).map(|i| 2 * i + 1).collect::<Vec<_>>());
    assert_eq!(map.done(), 10);
    assert_eq!(map.total(), None, "input not used up yet");
    assert_eq!(map.by_ref().count(), 490);
    assert_eq!((map.done(), map.total()), (500, Some(500)));
}

#[test]
fn as_completed_counts_finished_tasks_before_they_are_yielded() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    let gate = Gate::new();
    let mut handles: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    let g = gate.clone();
    handles.push(pool.submit(move || {
        g.wait();
        3
    }));
    // The quick three finish; the gated one cannot.
    for h in &handles[..3] {
        while !h.done() {
            std::thread::yield_now();
        }
    }
    let mut completions = as_completed(handles);
    assert_eq!(completions.total(), 4);
    assert_eq!(completions.done(), 3, "finished, none yielded yet");
    assert_eq!(completions.in_flight(), 1);
    for _ in 0..3 {
        completions.next().unwrap().result().unwrap();
    }
    assert_eq!((completions.done(), completions.len()), (3, 1));
    gate.open();
    assert_eq!(completions.next().unwrap().result().unwrap(), 3);
    assert_eq!((completions.done(), completions.in_flight()), (4, 0));
}

#[cfg(feature = "indicatif")]
mod bars {
    use super::*;
    use indicatif::ProgressBar;

    #[test]
    fn a_map_bar_follows_the_results_and_finishes() {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let bar = ProgressBar::hidden();
        let mut iter = pool.map(0..300_u32, |x| x).progress_with(bar.clone());
        assert_eq!(bar.length(), Some(300));
        for expected in 0..300 {
            assert_eq!(iter.next().unwrap().unwrap(), expected);
            assert_eq!(bar.position(), u64::from(expected) + 1);
        }
        assert!(!bar.is_finished());
        assert!(iter.next().is_none());
        assert!(bar.is_finished());
    }

    #[test]
    fn a_map_bar_gets_its_length_once_the_input_runs_out() {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let bar = ProgressBar::hidden();
        let input = (0..50_u32).filter(|x| x % 5 == 0);
        let seen = pool.map(input, |x| x).progress_with(bar.clone()).count();
        assert_eq!(seen, 10);
        assert_eq!((bar.position(), bar.length()), (10, Some(10)));
    }

    #[test]
    fn an_as_completed_bar_counts_yielded_handles() {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let handles: Vec<_> = (0..20).map(|i| pool.submit(move || i)).collect();
        let bar = ProgressBar::hidden();
        let mut completions = as_completed(handles).progress_with(bar.clone());
        assert_eq!(bar.length(), Some(20));
        let mut n = 0;
        for h in completions.by_ref() {
            h.result().unwrap();
            n += 1;
            assert_eq!(bar.position(), n);
        }
        assert!(bar.is_finished());
        assert_eq!(completions.get_ref().done(), 20);
    }
}
