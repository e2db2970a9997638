//! Compiles the `scopes` of the route table (`routes.toml`, the one list of
//! endpoints) into `$OUT_DIR/operation_scopes.rs`, so that every function
//! enforces the scopes its row names without a second copy of them in Rust
//! (see `shared::scopes`). `scripts/check_scopes.py` checks the rows against
//! the official fragments.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let routes = manifest.join("../routes.toml");
    println!("cargo:rerun-if-changed={}", routes.display());
    let text =
        std::fs::read_to_string(&routes).unwrap_or_else(|e| panic!("{}: {e}", routes.display()));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", routes.display()));
    let rows = table
        .get("route")
        .and_then(|r| r.as_array())
        .expect("routes.toml: [[route]] rows");

    let mut out = String::from(
        "/// Per operation id, per version served: the scopes of routes.toml.\n\
         pub const OPERATION_SCOPES: &[(&str, &[VersionScopes])] = &[\n",
    );
    for row in rows {
        let operation = row
            .get("operation")
            .and_then(|o| o.as_str())
            .expect("routes.toml: every row has an operation");
        let scopes = row
            .get("scopes")
            .and_then(|s| s.as_table())
            .unwrap_or_else(|| panic!("routes.toml: {operation} has no `scopes` table"));
        let versions = row
            .get("versions")
            .and_then(|v| v.as_array())
            .unwrap_or_else(|| panic!("routes.toml: {operation} has no versions"));
        write!(out, "    ({operation:?}, &[").unwrap();
        for version in versions {
            let version = version.as_str().expect("versions are strings");
            let list = scopes
                .get(version)
                .and_then(|l| l.as_array())
                .unwrap_or_else(|| panic!("routes.toml: {operation} has no scopes for {version}"));
            let list: Vec<&str> = list
                .iter()
                .map(|s| s.as_str().expect("scopes are strings"))
                .collect();
            assert!(
                !list.is_empty(),
                "routes.toml: {operation} {version}: at least one scope"
            );
            write!(out, "({version:?}, &{list:?}), ").unwrap();
        }
        out.push_str("]),\n");
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("operation_scopes.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
