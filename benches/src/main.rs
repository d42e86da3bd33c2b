fn main() { println!("executor-bench: work in progress"); }
