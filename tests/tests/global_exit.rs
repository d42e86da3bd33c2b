//! Work queued on `executor::global()` at process exit: with the guard at
//! the top of `main` (here: of the child's test function), a queued task's
//! side effect happens before the process ends. Each case runs in a child
//! process: this test binary re-invoked on one test, told by an
//! environment variable to act as the child.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const CHILD: &str = "EXECUTOR_GLOBAL_EXIT_CHILD";

/// Queues slow tasks on the global pool that each write a file, then
/// returns at once: the process exits right after this test returns.
fn queue_side_effects(dir: &str) {
    for i in 0..4 {
        let path = PathBuf::from(dir).join(format!("done-{i}"));
        drop(executor::global().submit(move || {
            std::thread::sleep(Duration::from_millis(50));
            std::fs::write(path, b"done").unwrap();
        }));
    }
}

#[test]
fn child_with_guard() {
    let Ok(dir) = std::env::var(CHILD) else {
        return; // only meaningful as the child
    };
    let _global = executor::global_guard();
    queue_side_effects(&dir);
}

#[test]
fn child_with_shutdown_global() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    queue_side_effects(&dir);
    executor::shutdown_global(true);
    assert!(matches!(
        executor::global().submit(|| ()).result(),
        Err(executor::TaskError::Rejected)
    ));
}

/// Runs this binary on test `name` as the child, in a fresh directory;
/// returns how many side-effect files it left.
fn run_child(name: &str) -> usize {
    let dir = std::env::temp_dir().join(format!(
        "executor-global-exit-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1"])
        .env(CHILD, &dir)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "child {name} failed: {status}");
    let files = std::fs::read_dir(&dir).unwrap().count();
    std::fs::remove_dir_all(&dir).unwrap();
    files
}

#[test]
fn the_guard_joins_the_global_pool_at_exit() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    assert_eq!(run_child("child_with_guard"), 4);
}

#[test]
fn shutdown_global_runs_queued_work_and_then_rejects() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    assert_eq!(run_child("child_with_shutdown_global"), 4);
}
