#[executor::task(name = "fetch", name = "download")]
fn fetch(url: String) -> usize {
    url.len()
}

fn main() {}
