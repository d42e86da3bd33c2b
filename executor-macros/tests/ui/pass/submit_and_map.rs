// The basic forms: the function stays callable, and its module submits and maps.
use executor::{task, ThreadPoolExecutor};

#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[task(name = "square-it")]
fn square(x: u64) -> u64 {
    x * x
}

#[task]
fn nothing() {}

#[task]
async fn double(x: u64) -> u64 {
    x * 2
}

fn main() {
    let pool = ThreadPoolExecutor::new();
    assert_eq!(add(1, 2), 3);
    assert_eq!(add::submit(&pool, 1, 2).result().unwrap(), 3);
    assert_eq!(add::submit_global(2, 2).result().unwrap(), 4);
    let sums: Vec<u64> = add::map(&pool, vec![(1, 1), (2, 2)])
        .map(Result::unwrap)
        .collect();
    assert_eq!(sums, [2, 4]);
    let squares: Vec<u64> = square::map_global(1..4).map(Result::unwrap).collect();
    assert_eq!(squares, [1, 4, 9]);
    nothing::submit(&pool).result().unwrap();
    assert_eq!(double::submit(&pool, 4).result().unwrap(), 8);
}
