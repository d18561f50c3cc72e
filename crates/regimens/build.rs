//! Compiles every regimen file in data/ into the library, so adding a regimen
//! is adding a file: no code names a regimen.

use std::fmt::Write;

fn main() {
    println!("cargo::rerun-if-changed=data");
    let mut names: Vec<String> = std::fs::read_dir("data")
        .expect("crates/regimens/data exists")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    let mut code = String::from(
        "/// Every regimen file shipped with this build, by file name.\npub(crate) const SHIPPED: &[(&str, &str)] = &[\n",
    );
    for name in names {
        writeln!(
            code,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/data/{name}\"))),"
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("shipped.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
