// The generated module cannot live in an `impl` block: rustc says so on the
// attribute. Declare tasks as free functions at module level.
struct Image;

impl Image {
    #[executor::task]
    fn blank(width: u32) -> u32 {
        width
    }
}

fn main() {}
