struct Config {
    retries: u32,
}

#[executor::task]
fn retries(config: &mut Config) -> u32 {
    config.retries
}

fn main() {}
