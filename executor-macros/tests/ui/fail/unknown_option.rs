#[executor::task(retries = 3)]
fn fetch(url: String) -> usize {
    url.len()
}

fn main() {}
