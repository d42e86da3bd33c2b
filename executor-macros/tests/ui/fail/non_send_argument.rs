use std::rc::Rc;

#[executor::task]
fn count(shared: Rc<Vec<u8>>) -> usize {
    shared.len()
}

fn main() {}
