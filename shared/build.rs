//! Compiles the route table (`routes.toml`, the one list of endpoints) into
//! `$OUT_DIR/routes.rs`: every row as a `shared::routes::Route`, so that the
//! functions (their status, `Idempotency-Key` and scopes), the local server,
//! the fixture replay and the benches read one model of it, and no crate
//! parses the file at run time. `scripts/check_scopes.py` checks the scopes
//! against the official fragments.

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

    const FIELDS: [&str; 11] = [
        "operation",
        "function",
        "method",
        "path",
        "status",
        "idempotent",
        "versions",
        "scopes",
        "smoke",
        "dynamodb_actions",
        "dynamodb_indexes",
    ];
    let mut out = String::from(
        "/// Every row of routes.toml, in table order.\n\
         pub const ROUTES: &[Route] = &[\n",
    );
    for row in rows {
        let row = row.as_table().expect("routes.toml: rows are tables");
        let operation = string(row, "operation", "?");
        if let Some(unknown) = row.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            panic!("routes.toml: {operation} has an unknown field `{unknown}`");
        }
        let status = row
            .get("status")
            .and_then(|s| s.as_integer())
            .unwrap_or_else(|| panic!("routes.toml: {operation} has no status"));
        let idempotent = row
            .get("idempotent")
            .and_then(|s| s.as_bool())
            .unwrap_or_else(|| panic!("routes.toml: {operation} has no `idempotent`"));
        let versions = strings(row, "versions", &operation);
        assert!(
            !versions.is_empty(),
            "routes.toml: {operation} has no versions"
        );
        let scopes = row
            .get("scopes")
            .and_then(|s| s.as_table())
            .unwrap_or_else(|| panic!("routes.toml: {operation} has no `scopes` table"));
        let mut scoped = String::new();
        for version in &versions {
            let list: Vec<String> = scopes
                .get(version)
                .and_then(|l| l.as_array())
                .unwrap_or_else(|| panic!("routes.toml: {operation} has no scopes for {version}"))
                .iter()
                .map(|s| s.as_str().expect("scopes are strings").to_string())
                .collect();
            assert!(
                !list.is_empty(),
                "routes.toml: {operation} {version}: at least one scope"
            );
            write!(scoped, "({version:?}, &{list:?}), ").unwrap();
        }
        writeln!(
            out,
            "    Route {{ operation: {operation:?}, function: {:?}, method: {:?}, path: {:?}, \
             status: {status}, idempotent: {idempotent}, versions: &{versions:?}, \
             scopes: &[{scoped}], smoke: &{:?}, dynamodb_actions: &{:?}, dynamodb_indexes: &{:?} }},",
            string(row, "function", &operation),
            string(row, "method", &operation),
            string(row, "path", &operation),
            strings(row, "smoke", &operation),
            strings(row, "dynamodb_actions", &operation),
            strings(row, "dynamodb_indexes", &operation),
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("routes.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

fn string(row: &toml::Table, field: &str, operation: &str) -> String {
    row.get(field)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("routes.toml: {operation} has no `{field}` string"))
        .to_string()
}

fn strings(row: &toml::Table, field: &str, operation: &str) -> Vec<String> {
    row.get(field)
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("routes.toml: {operation} has no `{field}` list"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("routes.toml: {operation}: `{field}` holds strings"))
                .to_string()
        })
        .collect()
}
