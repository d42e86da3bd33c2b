// The generated code spells out every path it uses, so it compiles in a module
// without the prelude.
#[no_implicit_prelude]
mod bare {
    #[::executor::task]
    pub(crate) fn sum(a: u64, b: u64) -> u64 {
        a + b
    }

    #[::executor::task]
    pub(crate) async fn twice(a: u64) -> u64 {
        a * 2
    }
}

fn main() {
    assert_eq!(bare::sum::submit_global(1, 2).result().unwrap(), 3);
    let doubled: Vec<u64> = bare::twice::map_global(vec![1, 2]).map(Result::unwrap).collect();
    assert_eq!(doubled, [2, 4]);
}
