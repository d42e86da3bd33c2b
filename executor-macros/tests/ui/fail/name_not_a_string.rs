#[executor::task(name = fetch)]
fn fetch(url: String) -> usize {
    url.len()
}

fn main() {}
