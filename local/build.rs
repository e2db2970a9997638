//! Writes the local server's handler table from the route table
//! (`routes.toml`) into `$OUT_DIR/handlers.rs`: one line per row's
//! `function`, calling the crate of that name (a path dependency in
//! `Cargo.toml`, which `scripts/check_routes.py` holds to the table). The
//! rows themselves are parsed by `shared`'s build script; this one only
//! needs their `function = "..."` lines.

use std::path::PathBuf;

fn main() {
    let routes = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../routes.toml");
    println!("cargo:rerun-if-changed={}", routes.display());
    let text =
        std::fs::read_to_string(&routes).unwrap_or_else(|e| panic!("{}: {e}", routes.display()));
    let lines: String = text
        .lines()
        .filter_map(|line| line.strip_prefix("function = \"")?.strip_suffix('"'))
        .map(|function| format!("    {function:?} => {},\n", function.replace('-', "_")))
        .collect();
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("handlers.rs");
    std::fs::write(&dest, format!("handlers! {{\n{lines}}}\n"))
        .unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
