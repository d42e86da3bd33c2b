//! "One allocation per task on the hot path" and "no allocation per `join`":
//! counts the heap allocations a submitting thread makes per `submit`
//! (closure, state and result slot together in one block), and a joining
//! worker per `join`, with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only allocations made by the thread under test are counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Allocations this thread made while counting (tests run in parallel).
    static MINE: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` unchanged; the counter is a side
// effect that allocates nothing itself (a const-initialised thread-local
// without a destructor and a static atomic).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            MINE.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded with the caller's own (valid) layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout (above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn submit_allocates_once_per_task() {
    const N: usize = 6_300;
    let pool = executor::ThreadPoolExecutor::builder()
        .max_workers(2)
        .min_workers(2)
        .build()
        .unwrap();
    // Warm up: threads started, queues' first blocks allocated.
    for h in (0..1_000)
        .map(|i| pool.submit(move || i))
        .collect::<Vec<_>>()
    {
        h.result().unwrap();
    }
    let mut handles = Vec::with_capacity(N);
    COUNTING.with(|c| c.set(true));
    for i in 0..N {
        handles.push(pool.submit(move || i));
    }
    COUNTING.with(|c| c.set(false));
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    eprintln!("{allocations} allocations for {N} submits");
    // One task cell per submit, plus the injector's own blocks (one per 63
    // pushes) and a little slack for a thread start.
    assert!(
        allocations >= N,
        "{allocations} allocations for {N} submits"
    );
    assert!(
        allocations <= N + N / 63 + 8,
        "{allocations} allocations for {N} submits: more than one per task"
    );
    let sum: usize = handles.into_iter().map(|h| h.result().unwrap()).sum();
    assert_eq!(sum, N * (N - 1) / 2);
}

/// `join` on a worker allocates nothing: the second half waits in a frame
/// on the stack, published (pushed by pointer) only when another worker
/// asks. Counted on the joining worker itself, with a two-worker pool so
/// that forks are published and stolen too.
///
/// One thing may allocate, and not per call: a join whose other half was
/// stolen by a thread the OS has descheduled parks its worker, and a
/// parking worker starts a spare thread when work is queued (see
/// `Registry::begin_blocking`); spawning a thread allocates. So the count
/// must be zero unless spares were started, and then at most a few per
/// spare.
#[test]
fn join_on_a_worker_allocates_nothing() {
    /// More than `std::thread::Builder::spawn` and our slot setup allocate.
    const ALLOCATIONS_PER_SPARE: usize = 32;
    fn tree(depth: u32) -> u64 {
        if depth == 0 {
            return 1;
        }
        let (a, b) = executor::join(|| tree(depth - 1), || tree(depth - 1));
        a + b
    }
    for workers in [1, 2] {
        let pool = std::sync::Arc::new(
            executor::ThreadPoolExecutor::builder()
                .max_workers(workers)
                .min_workers(workers)
                .build()
                .unwrap(),
        );
        let inner = pool.clone();
        let (allocations, spares, sum) = pool
            .submit(move || {
                // Warm up: the deque's first buffer, thread-locals, and
                // this thread's registration with crossbeam-epoch (made on
                // its first pin, by a steal or a wait's help: 2,304 bytes once).
                tree(12);
                drop(crossbeam_epoch::pin());
                let started = inner.stats().threads_started;
                let before = MINE.with(Cell::get);
                COUNTING.with(|c| c.set(true));
                let sum = tree(16);
                COUNTING.with(|c| c.set(false));
                let allocations = MINE.with(Cell::get) - before;
                let spares = inner.stats().threads_started - started;
                (allocations, usize::try_from(spares).unwrap(), sum)
            })
            .result()
            .unwrap();
        assert_eq!(sum, 1 << 16);
        assert!(
            allocations <= ALLOCATIONS_PER_SPARE * spares,
            "{allocations} allocations on the joining worker for 65,535 joins \
             ({workers} workers, {spares} spare threads started meanwhile)"
        );
    }
}
