struct Image;

impl Image {
    #[executor::task]
    fn resize(&self, width: u32) -> u32 {
        width
    }
}

fn main() {}
