// A module cannot see a function declared inside a block, so a task declared
// in a function body fails to resolve, on the function's name. Declare tasks
// at module level.
fn main() {
    #[executor::task]
    fn local(x: u32) -> u32 {
        x
    }
}
