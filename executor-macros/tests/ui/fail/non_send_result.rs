use std::cell::Cell;
use std::rc::Rc;

#[executor::task]
fn counter(start: u32) -> Rc<Cell<u32>> {
    Rc::new(Cell::new(start))
}

fn main() {}
