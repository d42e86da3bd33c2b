// Each visibility reaches as far through the module as through the function.
mod a {
    pub mod b {
        #[executor::task]
        pub fn everywhere() -> u8 {
            1
        }

        #[executor::task]
        pub(crate) fn in_crate() -> u8 {
            2
        }

        #[executor::task]
        pub(super) fn in_a() -> u8 {
            3
        }

        #[executor::task]
        pub(in crate::a) fn in_a_by_path() -> u8 {
            4
        }

        #[executor::task]
        pub(self) fn in_b() -> u8 {
            5
        }

        #[executor::task]
        fn private() -> u8 {
            6
        }

        pub(crate) fn from_b() -> u8 {
            in_b::submit_global().result().unwrap() + private::submit_global().result().unwrap()
        }
    }

    pub(crate) fn from_a() -> u8 {
        b::in_a::submit_global().result().unwrap()
            + b::in_a_by_path::submit_global().result().unwrap()
    }
}

pub use a::b::everywhere;

fn main() {
    assert_eq!(everywhere::submit_global().result().unwrap(), 1);
    assert_eq!(a::b::in_crate::submit_global().result().unwrap(), 2);
    assert_eq!(a::from_a(), 7);
    assert_eq!(a::b::from_b(), 11);
}
