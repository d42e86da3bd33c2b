use super::fork::ForkStack;

#[test]
fn job_is_as_small_as_a_task_pointer() {
    // The heap path pays nothing for the fork variant.
    // (an `Arc<dyn Trait>` is two words)
    assert_eq!(
        std::mem::size_of::<crate::task::Job>(),
        2 * std::mem::size_of::<usize>()
    );
}

#[test]
fn fork_stack_publishes_oldest_first() {
    let stack = ForkStack::for_current_thread();
    let f1 = super::Fork::new(|| 1);
    let f2 = super::Fork::new(|| 2);
    let f3 = super::Fork::new(|| 3);
    // SAFETY: the frames live until the end of the test and are popped in
    // LIFO order.
    unsafe {
        stack.push(f1.header());
        stack.push(f2.header());
    }
    let first = stack.take_oldest_unpublished().expect("f1");
    assert_eq!(first.addr(), f1.header().addr());
    // SAFETY: as above.
    unsafe { stack.push(f3.header()) };
    let second = stack.take_oldest_unpublished().expect("f2");
    assert_eq!(second.addr(), f2.header().addr());
    stack.pop(f3.header());
    assert!(
        stack.take_oldest_unpublished().is_none(),
        "f3 is gone, f1 and f2 published"
    );
    stack.pop(f2.header());
    stack.pop(f1.header());
    assert!(f1.header().is_published() && f2.header().is_published());
    assert!(!f3.header().is_published());
    // Run the published ones as a thief would, then collect.
    second.execute(None);
    first.execute(None);
    assert_eq!(f1.take_result().ok(), Some(1));
    assert_eq!(f2.take_result().ok(), Some(2));
    // SAFETY: f3 was never published, and runs once.
    assert_eq!(unsafe { f3.run_inline() }, 3);
}
