#[executor::task]
fn describe<T: std::fmt::Debug + Send + 'static>(value: T) -> String {
    format!("{value:?}")
}

fn main() {}
