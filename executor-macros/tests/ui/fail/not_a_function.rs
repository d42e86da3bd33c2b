#[executor::task]
pub struct Job {
    pub id: u64,
}

fn main() {}
