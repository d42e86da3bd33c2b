use super::*;

#[test]
fn adaptive_chunks_grow_for_cheap_items_and_stay_small_for_slow_ones() {
    let mut cheap = Sizing::new(MapOptions::new(), 4);
    for _ in 0..20 {
        cheap.adapt(cheap.chunk as u64 * 2, cheap.chunk); // 2 ns per item
    }
    let cheap_ideal = (4 * TARGET_NANOS_PER_WORKER).clamp(MIN_TARGET_NANOS, MAX_TARGET_NANOS) / 2;
    assert_eq!(cheap.chunk, (cheap_ideal as usize).min(MAX_CHUNK));
    // A bigger pool needs bigger chunks: one thread hands them all out.
    let mut wide = Sizing::new(MapOptions::new(), 16);
    for _ in 0..20 {
        wide.adapt(wide.chunk as u64 * 1_000, wide.chunk); // 1 µs per item
    }
    let wide_ideal =
        (16 * TARGET_NANOS_PER_WORKER).clamp(MIN_TARGET_NANOS, MAX_TARGET_NANOS) / 1_000;
    assert_eq!(wide.chunk, wide_ideal as usize);
    assert!(
        wide.target_nanos() > cheap.target_nanos(),
        "a wider pool aims at longer chunks"
    );

    let mut slow = Sizing::new(MapOptions::new(), 4);
    for _ in 0..20 {
        slow.adapt(1_000_000, 1); // 1 ms per item
    }
    assert_eq!(slow.chunk, 1);
}

#[test]
fn growth_is_bounded_per_chunk() {
    let mut s = Sizing::new(MapOptions::new(), 1);
    assert_eq!(s.window_items(), 1, "one probe chunk per worker at first");
    s.adapt(1, 1);
    assert_eq!(s.chunk, FIRST_CHUNK_CAP);
    assert_eq!(s.window_items(), AUTO_CHUNKS_PER_WORKER * FIRST_CHUNK_CAP);
    s.adapt(1, FIRST_CHUNK_CAP);
    assert_eq!(s.chunk, FIRST_CHUNK_CAP * CHUNK_GROWTH);
}

#[test]
fn explicit_window_caps_chunks() {
    let mut s = Sizing::new(MapOptions::new().window(40), 4);
    assert_eq!(s.max_chunk, 5);
    for _ in 0..20 {
        s.adapt(1, 1_000);
    }
    assert_eq!(s.chunk, 5);
    assert_eq!(s.window_items(), 40);
    let fixed = Sizing::new(MapOptions::new().window(3).chunk_size(10), 4);
    assert_eq!(fixed.chunk, 3);
}

#[test]
fn replicated_errors_keep_their_kind() {
    assert!(replicate(&TaskError::Cancelled).is_cancelled());
    assert!(matches!(
        replicate(&TaskError::Rejected),
        TaskError::Rejected
    ));
    assert!(matches!(replicate(&TaskError::Broken), TaskError::Broken));
    let p = TaskError::Panicked(Panic::new(Box::new("boom"), Some("t")));
    let r = replicate(&p).into_panic();
    assert_eq!((r.message(), r.task_name()), (Some("boom"), Some("t")));
}

#[test]
fn map_inside_a_single_worker_task_does_not_deadlock() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .build()
            .unwrap(),
    );
    let inner = Arc::clone(&pool);
    let sum = pool
        .submit(move || {
            inner
                .map(0..1000_u64, |x| x)
                .map(Result::unwrap)
                .sum::<u64>()
        })
        .result()
        .unwrap();
    assert_eq!(sum, 999 * 1000 / 2);
}

#[test]
fn after_shutdown_the_taken_items_are_rejected_and_the_map_ends() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    pool.shutdown(true);
    let results: Vec<_> = pool.map(0_u64.., |x| x).collect();
    assert!(!results.is_empty());
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(TaskError::Rejected))));
}
