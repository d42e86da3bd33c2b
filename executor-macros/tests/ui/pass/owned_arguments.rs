// Owned and 'static argument types are accepted, whatever their shape.
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[executor::task]
fn everything(
    path: PathBuf,
    label: &'static str,
    name: Cow<'static, str>,
    table: Arc<HashMap<String, Vec<u8>>>,
    callback: Box<dyn Fn(&str) -> usize + Send>,
    pointer: fn(&str) -> &str,
    mut counter: u32,
    (x, y): (i32, i32),
    _: (),
) -> usize {
    counter += 1;
    path.as_os_str().len()
        + label.len()
        + name.len()
        + table.len()
        + callback("abc")
        + pointer("de").len()
        + counter as usize
        + (x + y) as usize
}

fn main() {
    let got = everything::submit_global(
        PathBuf::from("ab"),
        "c",
        Cow::Borrowed("d"),
        Arc::new(HashMap::new()),
        Box::new(|s| s.len()),
        |s| s,
        0,
        (1, 2),
        (),
    )
    .result()
    .unwrap();
    assert_eq!(got, 2 + 1 + 1 + 0 + 3 + 2 + 1 + 3);
}
