// Every mistake is reported at once, each on its own token.
#[executor::task(nme = "typo", name = "ok", name = "again")]
fn process(input: &[u8], extra: impl Send) -> usize {
    let _ = extra;
    input.len()
}

fn main() {}
