//! Replays every API Gateway event under `events/` through its function's
//! handler and compares the answer with the expected response beside it.
//!
//! Layout (see `events/README.md`): `events/<function crate>/<case>.json` is
//! the event, `<case>.expected.json` the response; `events/README.md` and
//! `events/env.json` are the only other files allowed. An event without an
//! expected response, or an expected response without an event, fails.
//!
//! Every case runs on a fresh in-process store loaded with the demo seed, with
//! the local HS256 secret, so cases never depend on one another.
//!
//! `EVENT_FIXTURES_ACTUAL_DIR=<dir>` also writes each actual response to
//! `<dir>/<function>/<case>.actual.json`, to help update expectations.
//!
//! The ignored test `emulator_responses` compares responses captured from the
//! real binaries (`scripts/emulator_test.sh`) with the same expected files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use shared::http::ApiResponse;
use shared::seed::DEMO_SEED;
use shared::state::{AppState, LOCAL_HS256_SECRET};

/// The function crates of the route table, which are also the folder names
/// under `events/`.
fn functions() -> Vec<&'static str> {
    local_api::routes().iter().map(|r| r.function).collect()
}
/// Files allowed directly under `events/`.
const TOP_LEVEL_FILES: [&str; 2] = ["README.md", "env.json"];
/// The stage the template deploys by default (`StageName`).
const STAGE: &str = "prod";
const EXPECTED_SUFFIX: &str = ".expected.json";
const V2_PREFIX: &str = "http-api-v2-";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("local/ has a parent")
        .to_path_buf()
}

fn events_dir() -> PathBuf {
    workspace_root().join("events")
}

async fn fresh_state() -> AppState {
    AppState::local(DEMO_SEED)
        .await
        .expect("the demo seed loads into the in-process store")
}

// ---------------------------------------------------------------- discovery

/// One fixture: the event and its expected response.
#[derive(Debug, Clone)]
struct Case {
    function: String,
    name: String,
    event: PathBuf,
    expected: PathBuf,
}

impl Case {
    fn id(&self) -> String {
        format!("{}/{}", self.function, self.name)
    }
}

/// Every event under `events/` (with the path its expected response must
/// have), and every problem with the folder's layout.
fn discover() -> (Vec<Case>, Vec<String>) {
    let dir = events_dir();
    let mut problems = Vec::new();
    let mut cases = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = file_name(&path);
        if path.is_dir() {
            if functions().contains(&name.as_str()) {
                discover_function(&path, &name, &mut cases, &mut problems);
            } else {
                problems.push(format!(
                    "events/{name}/: not a function crate (expected one of {:?})",
                    functions()
                ));
            }
        } else if !TOP_LEVEL_FILES.contains(&name.as_str()) {
            problems.push(format!(
                "events/{name}: only {TOP_LEVEL_FILES:?} may sit beside the function folders"
            ));
        }
    }
    for f in functions() {
        if !cases.iter().any(|c: &Case| c.function == f) {
            problems.push(format!("events/{f}/: no fixtures for this function"));
        }
    }
    (cases, problems)
}

fn discover_function(
    dir: &Path,
    function: &str,
    cases: &mut Vec<Case>,
    problems: &mut Vec<String>,
) {
    let mut events = BTreeSet::new();
    let mut expected = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("readable entry").path();
        let name = file_name(&path);
        if let Some(case) = name.strip_suffix(EXPECTED_SUFFIX) {
            expected.insert(case.to_string());
        } else if let Some(case) = name.strip_suffix(".json").filter(|_| path.is_file()) {
            events.insert(case.to_string());
        } else {
            problems.push(format!(
                "events/{function}/{name}: neither <case>.json nor <case>{EXPECTED_SUFFIX}"
            ));
        }
    }
    for case in events.difference(&expected) {
        problems.push(format!(
            "events/{function}/{case}.json has no expected response ({case}{EXPECTED_SUFFIX})"
        ));
    }
    for case in expected.difference(&events) {
        problems.push(format!(
            "events/{function}/{case}{EXPECTED_SUFFIX} has no event ({case}.json)"
        ));
    }
    for case in &events {
        cases.push(Case {
            function: function.to_string(),
            name: case.clone(),
            event: dir.join(format!("{case}.json")),
            expected: dir.join(format!("{case}{EXPECTED_SUFFIX}")),
        });
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

// ----------------------------------------------------------------- matching

/// A response reduced to what the expected files describe.
#[derive(Debug, Clone)]
struct Actual {
    status: u16,
    /// Names as the response spells them.
    headers: BTreeMap<String, String>,
    body: Value,
}

impl Actual {
    fn from_response(response: ApiResponse) -> Self {
        Self {
            status: response.status,
            headers: response
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            body: parse_body(response.body.as_bytes()),
        }
    }

    /// A Lambda proxy response as the runtime returns it to API Gateway
    /// (`statusCode`, `headers`, `multiValueHeaders`, `body`, `isBase64Encoded`).
    fn from_proxy_response(value: &Value) -> Result<Self, String> {
        let status = value
            .get("statusCode")
            .and_then(Value::as_u64)
            .ok_or("no numeric statusCode")? as u16;
        let mut headers = BTreeMap::new();
        if let Some(multi) = value.get("multiValueHeaders").and_then(Value::as_object) {
            for (k, v) in multi {
                let joined = v
                    .as_array()
                    .map(|vs| {
                        vs.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                headers.insert(k.clone(), joined);
            }
        }
        if let Some(single) = value.get("headers").and_then(Value::as_object) {
            for (k, v) in single {
                if let Some(v) = v.as_str() {
                    headers.insert(k.clone(), v.to_string());
                }
            }
        }
        let body = match value.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) if value.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| format!("body is not base64: {e}"))?
            }
            Some(Value::String(s)) => s.clone().into_bytes(),
            Some(other) => return Err(format!("body is not a string: {other}")),
        };
        Ok(Self {
            status,
            headers,
            body: parse_body(&body),
        })
    }

    fn to_json(&self) -> Value {
        serde_json::json!({
            "statusCode": self.status,
            "headers": self.headers,
            "body": self.body,
        })
    }
}

/// JSON bodies as values; anything else as a string; no body as null.
fn parse_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Compares a response with an expected file: `statusCode` exactly, each
/// listed header (a `null` value means "absent"), and `body` by [`matches`].
fn compare(expected: &Value, actual: &Actual) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(object) = expected.as_object() else {
        return vec!["expected file is not a JSON object".into()];
    };
    for key in object.keys() {
        if !["statusCode", "headers", "body"].contains(&key.as_str()) {
            errors.push(format!("expected file has an unknown key {key:?}"));
        }
    }
    match object.get("statusCode").and_then(Value::as_u64) {
        Some(s) if s == u64::from(actual.status) => {}
        Some(s) => errors.push(format!("statusCode: expected {s}, got {}", actual.status)),
        None => errors.push("expected file has no numeric statusCode".into()),
    }
    if let Some(headers) = object.get("headers") {
        let Some(headers) = headers.as_object() else {
            errors.push("expected headers is not an object".into());
            return errors;
        };
        for (name, want) in headers {
            // Names are compared exactly: clients read them case-sensitively.
            let got = actual.headers.get(name);
            match (want, got) {
                (Value::Null, None) => {}
                (Value::Null, Some(g)) => {
                    errors.push(format!("header {name}: expected absent, got {g:?}"))
                }
                (_, None) => errors.push(format!("header {name}: expected {want}, absent")),
                (want, Some(g)) => matches(
                    want,
                    &Value::String(g.clone()),
                    &format!("header {name}"),
                    &mut errors,
                ),
            }
        }
    }
    match object.get("body") {
        Some(want) => matches(want, &actual.body, "body", &mut errors),
        None => errors.push("expected file has no body (use null for none)".into()),
    }
    errors
}

/// Whether `actual` has the shape `expected` describes: equal scalars, the
/// same keys and the same array lengths, with placeholder strings standing
/// for generated values (see `events/README.md`).
fn matches(expected: &Value, actual: &Value, at: &str, errors: &mut Vec<String>) {
    match (expected, actual) {
        (Value::String(p), _) if is_placeholder(p) => {
            if let Err(why) = placeholder_accepts(p, actual) {
                errors.push(format!("{at}: expected {p}, got {actual} ({why})"));
            }
        }
        (Value::String(e), Value::String(a)) if has_embedded_placeholder(e) => {
            if !template_matches(e, a) {
                errors.push(format!("{at}: expected {expected}, got {actual}"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => matches(ev, av, &format!("{at}.{k}"), errors),
                    None => errors.push(format!("{at}.{k}: missing (expected {ev})")),
                }
            }
            for (k, av) in a {
                if !e.contains_key(k) {
                    errors.push(format!("{at}.{k}: unexpected key (value {av})"));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                errors.push(format!(
                    "{at}: expected {} elements, got {}: {actual}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                matches(ev, av, &format!("{at}[{i}]"), errors);
            }
        }
        (e, a) if e == a => {}
        (e, a) => errors.push(format!("{at}: expected {e}, got {a}")),
    }
}

const PLACEHOLDERS: [&str; 4] = ["<id>", "<tracking-id>", "<timestamp>", "<any>"];

fn is_placeholder(s: &str) -> bool {
    PLACEHOLDERS.contains(&s)
}

/// Placeholders that may also stand inside a longer string (`"now is <timestamp>"`).
const EMBEDDABLE: [&str; 3] = ["<id>", "<tracking-id>", "<timestamp>"];

fn has_embedded_placeholder(s: &str) -> bool {
    EMBEDDABLE.iter().any(|p| s.contains(p))
}

/// Splits `template` at its placeholders: literal text and placeholders in turn.
fn template_parts(template: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let mut rest = template;
    loop {
        let next = EMBEDDABLE
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, *p)))
            .min_by_key(|(i, _)| *i);
        match next {
            Some((i, p)) => {
                parts.push((false, &rest[..i]));
                parts.push((true, p));
                rest = &rest[i + p.len()..];
            }
            None => {
                parts.push((false, rest));
                return parts;
            }
        }
    }
}

/// Whether `actual` is `template` with each placeholder replaced by a value of
/// its shape; a placeholder extends to the next occurrence of the literal text
/// after it (or to the end).
fn template_matches(template: &str, actual: &str) -> bool {
    let parts = template_parts(template);
    let mut pos = 0;
    let mut i = 0;
    while i < parts.len() {
        let (is_placeholder, text) = parts[i];
        if !is_placeholder {
            if !actual[pos..].starts_with(text) {
                return false;
            }
            pos += text.len();
            i += 1;
            continue;
        }
        let end = match parts.get(i + 1) {
            Some((false, next)) if !next.is_empty() => match actual[pos..].find(next) {
                Some(off) => pos + off,
                None => return false,
            },
            _ if i + 2 >= parts.len() => actual.len(),
            _ => return false, // two placeholders in a row: ambiguous
        };
        if placeholder_accepts(text, &Value::String(actual[pos..end].to_string())).is_err() {
            return false;
        }
        pos = end;
        i += 1;
    }
    pos == actual.len()
}

fn placeholder_accepts(placeholder: &str, actual: &Value) -> Result<(), &'static str> {
    let hex32 = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    };
    match placeholder {
        "<any>" => Ok(()),
        "<id>" | "<tracking-id>" if hex32(actual) => Ok(()),
        "<id>" | "<tracking-id>" => Err("not 32 lowercase hex characters"),
        "<timestamp>" => match actual.as_str() {
            Some(s) if shared::time::parse(s).is_some() => Ok(()),
            _ => Err("not an RFC 3339 date-time"),
        },
        _ => Err("unknown placeholder"),
    }
}

// -------------------------------------------------------------------- tests

/// Runs one event through its function on a fresh seeded store.
async fn replay(case: &Case) -> Result<Actual, String> {
    let text = std::fs::read_to_string(&case.event).map_err(|e| e.to_string())?;
    let request = lambda_http::request::from_str(&text)
        .map_err(|e| format!("lambda_http cannot parse the event: {e}"))?;
    let state = fresh_state().await;
    Ok(Actual::from_response(
        local_api::call(&case.function, &state, request)
            .await
            .unwrap_or_else(|| panic!("no handler for {}", case.function)),
    ))
}

#[tokio::test]
async fn every_event_gets_its_expected_response() {
    if std::env::var_os("EVENT_FIXTURES_BLESS").is_some_and(|v| v == "1") {
        bless_all().await;
    }
    let (cases, problems) = discover();
    assert!(
        problems.is_empty(),
        "events/ layout:\n  {}",
        problems.join("\n  ")
    );
    let dump = std::env::var_os("EVENT_FIXTURES_ACTUAL_DIR").map(PathBuf::from);
    let mut failures = Vec::new();
    for case in &cases {
        let actual = match replay(case).await {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{}: {e}", case.id()));
                continue;
            }
        };
        if let Some(dir) = &dump {
            let path = dir
                .join(&case.function)
                .join(format!("{}.actual.json", case.name));
            std::fs::create_dir_all(path.parent().expect("has a parent")).expect("dump dir");
            let text = serde_json::to_string_pretty(&actual.to_json()).expect("serializable");
            std::fs::write(&path, text + "\n").expect("dump written");
        }
        let errors = compare(&read_json(&case.expected), &actual);
        if !errors.is_empty() {
            failures.push(format!(
                "{}:\n    {}\n    actual: {}",
                case.id(),
                errors.join("\n    "),
                actual.to_json()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from their expected response:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("{} event fixtures replayed", cases.len());
}

/// Every route of the table has fixtures with at least one success and one
/// rejection, and its `smoke` list names existing fixtures: a success first,
/// and at least one rejection.
#[test]
fn every_route_has_a_success_and_a_rejection() {
    let (cases, _) = discover();
    let status = |function: &str, case: &str| -> Option<u64> {
        let path = events_dir()
            .join(function)
            .join(format!("{case}{EXPECTED_SUFFIX}"));
        read_json(&path).get("statusCode").and_then(Value::as_u64)
    };
    let success = |s: Option<u64>| s.is_some_and(|s| (200..300).contains(&s));
    let mut problems = Vec::new();
    for route in local_api::routes() {
        let f = route.function;
        let statuses: Vec<Option<u64>> = cases
            .iter()
            .filter(|c| c.function == f)
            .map(|c| status(f, &c.name))
            .collect();
        if !statuses.iter().any(|s| success(*s)) {
            problems.push(format!("events/{f}/: no success fixture"));
        }
        if !statuses.iter().any(|s| !success(*s)) {
            problems.push(format!("events/{f}/: no rejection fixture"));
        }
        let known = |case: &str| cases.iter().any(|c| c.function == f && c.name == case);
        if let Some(missing) = route.smoke.iter().find(|c| !known(c)) {
            problems.push(format!(
                "routes.toml {f}: smoke case {missing} has no fixture"
            ));
            continue;
        }
        if !success(status(f, route.smoke[0])) {
            problems.push(format!(
                "routes.toml {f}: the first smoke case is not a success"
            ));
        }
        if route.smoke.iter().all(|c| success(status(f, c))) {
            problems.push(format!("routes.toml {f}: no smoke case is a rejection"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// -------------------------------------------------------------- blessing

/// `EVENT_FIXTURES_BLESS=1`: (re)writes every expected file from the actual
/// response, keeping the old file's placeholders where they still match and
/// putting placeholders where new values look generated (a `trackingId`, or
/// 32-hex ids and recent timestamps found in neither the seed nor the event).
/// Review the diff before committing it.
async fn bless_all() {
    let (cases, _) = discover();
    for case in &cases {
        let actual = replay(case)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", case.id()));
        let old: Option<Value> = std::fs::read_to_string(&case.expected)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let known = format!(
            "{DEMO_SEED}{}",
            std::fs::read_to_string(&case.event).unwrap_or_default()
        );
        let new = blessed(old.as_ref(), &actual, &known);
        if old.as_ref() != Some(&new) {
            let text = serde_json::to_string_pretty(&new).expect("serializable") + "\n";
            std::fs::write(&case.expected, text).expect("expected file written");
            eprintln!("blessed {}", case.id());
        }
    }
}

fn blessed(old: Option<&Value>, actual: &Actual, known: &str) -> Value {
    let mut headers = serde_json::Map::new();
    match old
        .and_then(|o| o.get("headers"))
        .and_then(Value::as_object)
    {
        Some(listed) => {
            for (name, want) in listed {
                let value = match actual
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
                {
                    None => Value::Null,
                    Some(got) => bless_value(Some(want), &Value::String(got.clone()), known, ""),
                };
                // The name as the response spells it.
                let spelled = actual
                    .headers
                    .keys()
                    .find(|n| n.eq_ignore_ascii_case(name))
                    .unwrap_or(name);
                headers.insert(spelled.clone(), value);
            }
        }
        None => {
            for name in ["Content-Type", "X-Total-Count", "Retry-After"] {
                if let Some(v) = actual.headers.get(name) {
                    headers.insert(name.to_string(), Value::String(v.clone()));
                }
            }
        }
    }
    serde_json::json!({
        "statusCode": actual.status,
        "headers": headers,
        "body": bless_value(old.and_then(|o| o.get("body")), &actual.body, known, ""),
    })
}

fn bless_value(old: Option<&Value>, actual: &Value, known: &str, key: &str) -> Value {
    if let Some(old) = old {
        let mut errors = Vec::new();
        matches(old, actual, "", &mut errors);
        if errors.is_empty() {
            return old.clone();
        }
    }
    match actual {
        Value::Object(a) => Value::Object(
            a.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        bless_value(old.and_then(|o| o.get(k)), v, known, k),
                    )
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| bless_value(old.and_then(|o| o.get(i)), v, known, ""))
                .collect(),
        ),
        Value::String(_) if key == "trackingId" => Value::String("<tracking-id>".into()),
        Value::String(s) => Value::String(generalize(s, known)),
        other => other.clone(),
    }
}

/// `s` with generated-looking values replaced by placeholders.
fn generalize(s: &str, known: &str) -> String {
    let now = unix_now();
    let timestamps = replace_runs(
        s,
        |c| c.is_ascii_digit() || "-:.TZ+".contains(c),
        |run| {
            let recent =
                shared::time::parse(run).is_some_and(|t| (t.timestamp() - now).abs() < 3600);
            (recent && !known.contains(run)).then_some("<timestamp>")
        },
    );
    replace_runs(
        &timestamps,
        |c| c.is_ascii_alphanumeric(),
        |run| {
            let id = run.len() == 32 && run.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            (id && !known.contains(run)).then_some("<id>")
        },
    )
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Replaces each maximal run of `in_run` characters for which `replace` says so.
fn replace_runs(
    s: &str,
    in_run: impl Fn(char) -> bool,
    replace: impl Fn(&str) -> Option<&'static str>,
) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        out.push_str(replace(run).unwrap_or(run));
        run.clear();
    };
    for c in s.chars() {
        if in_run(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Responses captured from the real binaries under `cargo lambda watch`
/// (`scripts/emulator_test.sh` sets `EMULATOR_RESPONSES_DIR`): each
/// `<dir>/<function>/<case>.json` must match `events/<function>/<case>.expected.json`,
/// and every function must have one unless `EMULATOR_PARTIAL` is set.
#[test]
#[ignore = "run by scripts/emulator_test.sh with EMULATOR_RESPONSES_DIR set"]
fn emulator_responses() {
    let dir = PathBuf::from(
        std::env::var_os("EMULATOR_RESPONSES_DIR").expect("EMULATOR_RESPONSES_DIR is set"),
    );
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for function in functions() {
        let Ok(entries) = std::fs::read_dir(dir.join(function)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable entry").path();
            let Some(case) = file_name(&path).strip_suffix(".json").map(str::to_string) else {
                continue;
            };
            let expected = events_dir()
                .join(function)
                .join(format!("{case}{EXPECTED_SUFFIX}"));
            let id = format!("{function}/{case}");
            if !expected.exists() {
                failures.push(format!("{id}: no {}", expected.display()));
                continue;
            }
            let actual = match Actual::from_proxy_response(&read_json(&path)) {
                Ok(a) => a,
                Err(e) => {
                    failures.push(format!("{id}: not a Lambda proxy response: {e}"));
                    continue;
                }
            };
            let errors = compare(&read_json(&expected), &actual);
            if !errors.is_empty() {
                failures.push(format!(
                    "{id}:\n    {}\n    actual: {}",
                    errors.join("\n    "),
                    actual.to_json()
                ));
            }
            seen.insert(function);
            checked += 1;
        }
    }
    // The default run covers every function; a run of chosen cases may not.
    if std::env::var_os("EMULATOR_PARTIAL").is_none() {
        for function in functions() {
            if !seen.contains(function) {
                failures.push(format!("{function}: no response captured"));
            }
        }
    }
    assert!(checked > 0, "no responses under {}", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{checked} emulator responses match their expected files");
}

/// Each event is what the template's API would send: a route of that very
/// function in `template.yaml`, stage `prod`, consistent paths, parameters
/// and headers. `http-api-v2-*` cases are HTTP API (payload 2.0) events.
#[test]
fn events_are_what_the_templates_api_sends() {
    let routes = template_routes();
    let (cases, _) = discover();
    assert!(!cases.is_empty(), "no fixtures discovered");
    let mut problems = Vec::new();
    for case in &cases {
        let event = read_json(&case.event);
        let allowed = routes.get(&case.function).cloned().unwrap_or_default();
        let result = if case.name.starts_with(V2_PREFIX) {
            check_v2_event(&event, &allowed)
        } else {
            check_v1_event(&event, &allowed)
        };
        if let Err(e) = result {
            problems.push(format!("{}: {e}", case.id()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `(METHOD, resource)` of every `Api` event of each function in the
/// template, keyed by its `BuildProperties: Binary`.
fn template_routes() -> BTreeMap<String, Vec<(String, String)>> {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml"))
        .expect("template.yaml is readable");
    let mut by_binary: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut binary: Option<String> = None;
    let mut pending_path: Option<String> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent <= 2 && trimmed.ends_with(':') && !trimmed.starts_with('#') {
            // A new resource (or section): forget the previous function.
            binary = None;
            pending_path = None;
            continue;
        }
        if let Some(b) = trimmed.strip_prefix("Binary:") {
            binary = Some(b.trim().trim_matches('"').to_string());
        } else if let Some(p) = trimmed.strip_prefix("Path:") {
            pending_path = Some(p.trim().trim_matches('"').to_string());
        } else if let Some(m) = trimmed.strip_prefix("Method:") {
            if let (Some(b), Some(p)) = (&binary, pending_path.take()) {
                by_binary
                    .entry(b.clone())
                    .or_default()
                    .push((m.trim().trim_matches('"').to_ascii_uppercase(), p));
            }
        }
    }
    for f in functions() {
        assert!(
            by_binary.get(f).is_some_and(|r| !r.is_empty()),
            "template.yaml: no routes found for Binary: {f}"
        );
    }
    by_binary
}

fn str_at<'a>(event: &'a Value, pointer: &str) -> Result<&'a str, String> {
    event
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{pointer} is not a string"))
}

/// The concrete path of `resource` with its `{name}` parameters (`{id}`,
/// `{requestedFor}`) filled from `params`, which must hold exactly those.
fn concrete_path(resource: &str, params: Option<&Value>) -> Result<String, String> {
    let names: Vec<&str> = resource
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect();
    if names.is_empty() {
        return match params {
            None | Some(Value::Null) => Ok(resource.to_string()),
            Some(Value::Object(o)) if o.is_empty() => Ok(resource.to_string()),
            Some(p) => Err(format!("pathParameters {p} on a route without parameters")),
        };
    }
    let given = params.and_then(Value::as_object);
    if given.map_or(0, |o| o.len()) != names.len() {
        return Err(format!(
            "route has {names:?} but pathParameters are {}",
            params.cloned().unwrap_or(Value::Null)
        ));
    }
    let mut path = resource.to_string();
    for name in names {
        let value = given
            .and_then(|o| o.get(name))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("route has {{{name}}} but pathParameters.{name} is missing"))?;
        path = path.replace(&format!("{{{name}}}"), value);
    }
    Ok(path)
}

fn check_v1_event(event: &Value, routes: &[(String, String)]) -> Result<(), String> {
    if event.get("version").is_some() {
        return Err("has a payload version; REST API (1.0) events have none".into());
    }
    let method = str_at(event, "/httpMethod")?;
    let resource = str_at(event, "/resource")?;
    if !routes.iter().any(|(m, p)| m == method && p == resource) {
        return Err(format!(
            "{method} {resource} is not a route of this function in template.yaml"
        ));
    }
    let path = str_at(event, "/path")?;
    let want = concrete_path(resource, event.get("pathParameters"))?;
    if path != want {
        return Err(format!("path {path:?}, expected {want:?}"));
    }
    let ctx = |p: &str| str_at(event, &format!("/requestContext/{p}"));
    if ctx("stage")? != STAGE {
        return Err(format!("requestContext.stage is not {STAGE:?}"));
    }
    if ctx("resourcePath")? != resource || ctx("httpMethod")? != method {
        return Err(
            "requestContext.resourcePath/httpMethod differ from resource/httpMethod".into(),
        );
    }
    if ctx("path")? != format!("/{STAGE}{path}") {
        return Err(format!("requestContext.path is not /{STAGE}{path}"));
    }
    ctx("requestId")?;
    // The single-value maps hold the last of each multi-value list.
    for (single, multi) in [
        ("headers", "multiValueHeaders"),
        ("queryStringParameters", "multiValueQueryStringParameters"),
    ] {
        let s = event.get(single).and_then(Value::as_object);
        let m = event.get(multi).and_then(Value::as_object);
        let s_keys: BTreeSet<_> = s.map(|o| o.keys().collect()).unwrap_or_default();
        let m_keys: BTreeSet<_> = m.map(|o| o.keys().collect()).unwrap_or_default();
        if s_keys != m_keys {
            return Err(format!("{single} and {multi} name different keys"));
        }
        for (k, v) in s.into_iter().flatten() {
            let last = m
                .and_then(|m| m.get(k))
                .and_then(Value::as_array)
                .and_then(|a| a.last());
            if last != Some(v) {
                return Err(format!("{single}.{k} is not the last value of {multi}.{k}"));
            }
        }
    }
    Ok(())
}

fn check_v2_event(event: &Value, routes: &[(String, String)]) -> Result<(), String> {
    if str_at(event, "/version")? != "2.0" {
        return Err("http-api-v2-* events must be payload version 2.0".into());
    }
    let route_key = str_at(event, "/routeKey")?;
    let (method, resource) = route_key
        .split_once(' ')
        .ok_or("routeKey is not \"METHOD /path\"")?;
    if !routes.iter().any(|(m, p)| m == method && p == resource) {
        return Err(format!(
            "{route_key} is not a route of this function in template.yaml"
        ));
    }
    if str_at(event, "/requestContext/routeKey")? != route_key
        || str_at(event, "/requestContext/http/method")? != method
    {
        return Err("requestContext.routeKey/http.method differ from routeKey".into());
    }
    let raw_path = str_at(event, "/rawPath")?;
    let want = concrete_path(resource, event.get("pathParameters"))?;
    if raw_path != want || str_at(event, "/requestContext/http/path")? != want {
        return Err(format!(
            "rawPath / requestContext.http.path are not {want:?}"
        ));
    }
    if let Some(headers) = event.get("headers").and_then(Value::as_object) {
        if let Some(k) = headers
            .keys()
            .find(|k| k.chars().any(|c| c.is_ascii_uppercase()))
        {
            return Err(format!("HTTP APIs send lower-case header names; got {k:?}"));
        }
    }
    Ok(())
}

/// `events/env.json` (for `sam local invoke --env-vars`) blanks `TABLE_NAME`
/// so the functions serve the embedded demo store, and names only variables
/// the template declares (SAM silently ignores any other).
#[test]
fn env_json_selects_the_embedded_store() {
    let env = read_json(&events_dir().join("env.json"));
    let params = env
        .get("Parameters")
        .and_then(Value::as_object)
        .expect("env.json has a Parameters object (applies to every function)");
    assert_eq!(
        params.get("TABLE_NAME"),
        Some(&Value::String(String::new()))
    );
    let template = std::fs::read_to_string(workspace_root().join("template.yaml"))
        .expect("template.yaml is readable");
    for (name, value) in params {
        assert!(value.is_string(), "env.json {name}: values must be strings");
        assert!(
            template
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{name}:"))),
            "env.json {name}: not an environment variable of template.yaml"
        );
    }
}

/// The fixture generator signs tokens with the secret the functions accept.
#[test]
fn fixture_generator_uses_the_local_secret() {
    let script = std::fs::read_to_string(workspace_root().join("scripts/make_event_fixtures.py"))
        .expect("scripts/make_event_fixtures.py is readable");
    let line = format!("LOCAL_HS256_SECRET = \"{LOCAL_HS256_SECRET}\"");
    assert!(
        script.lines().any(|l| l.trim() == line),
        "scripts/make_event_fixtures.py must set {line}"
    );
}

#[test]
fn matcher_accepts_shapes_and_rejects_differences() {
    let expected = serde_json::json!({
        "id": "<id>", "at": "<timestamp>", "n": 1, "list": ["a", "<any>"]
    });
    let good = serde_json::json!({
        "id": "0123456789abcdef0123456789abcdef", "at": "2026-12-10T09:30:00.123Z",
        "n": 1, "list": ["a", {"x": 1}]
    });
    let mut errors = Vec::new();
    matches(&expected, &good, "body", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");

    for bad in [
        serde_json::json!({"id": "0123456789ABCDEF0123456789ABCDEF", "at": "2026-12-10T09:30:00Z", "n": 1, "list": ["a", 1]}),
        serde_json::json!({"id": "0123456789abcdef0123456789abcdef", "at": "yesterday", "n": 1, "list": ["a", 1]}),
        serde_json::json!({"id": "0123456789abcdef0123456789abcdef", "at": "2026-12-10T09:30:00Z", "n": 2, "list": ["a", 1]}),
        serde_json::json!({"id": "0123456789abcdef0123456789abcdef", "at": "2026-12-10T09:30:00Z", "n": 1, "list": ["a"]}),
        serde_json::json!({"id": "0123456789abcdef0123456789abcdef", "at": "2026-12-10T09:30:00Z", "n": 1, "list": ["a", 1], "extra": true}),
        serde_json::json!({"at": "2026-12-10T09:30:00Z", "n": 1, "list": ["a", 1]}),
    ] {
        let mut errors = Vec::new();
        matches(&expected, &bad, "body", &mut errors);
        assert!(!errors.is_empty(), "accepted {bad}");
    }

    let actual = Actual {
        status: 200,
        headers: [("Content-Type".to_string(), "application/json".to_string())].into(),
        body: serde_json::json!([]),
    };
    let ok = serde_json::json!({"statusCode": 200, "headers": {"Content-Type": "application/json", "X-Total-Count": null}, "body": []});
    assert!(compare(&ok, &actual).is_empty());
    let absent =
        serde_json::json!({"statusCode": 200, "headers": {"X-Total-Count": "0"}, "body": []});
    assert!(!compare(&absent, &actual).is_empty());
    // Header names are compared as spelled: clients read them so.
    let lowercase = serde_json::json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": []});
    assert!(!compare(&lowercase, &actual).is_empty());
    let status = serde_json::json!({"statusCode": 202, "body": []});
    assert!(!compare(&status, &actual).is_empty());
}

#[test]
fn placeholders_inside_strings() {
    let t = "access request <id> is past its removeDate (now is <timestamp>)";
    assert!(template_matches(
        t,
        "access request 0123456789abcdef0123456789abcdef is past its removeDate (now is 2026-12-10T09:30:00.123Z)"
    ));
    assert!(!template_matches(
        t,
        "access request 0123456789abcdef is past its removeDate (now is 2026-12-10T09:30:00.123Z)"
    ));
    assert!(!template_matches(
        t,
        "access request 0123456789abcdef0123456789abcdef is past its removeDate (now is soon)"
    ));
    assert!(template_matches("<id>", "0123456789abcdef0123456789abcdef"));
    assert!(!template_matches(
        "x <id>",
        "x 0123456789abcdef0123456789abcdef!"
    ));

    let known = "seed 7c9180857a1f0001a1b2c3d4e5f60001";
    let epoch = shared::time::parse("1970-01-01T00:00:00Z").expect("a date-time");
    let now = shared::time::format(&(epoch + std::time::Duration::from_secs(unix_now() as u64)));
    assert_eq!(
        generalize(
            &format!("now is {now}; id 0123456789abcdef0123456789abcdef"),
            known
        ),
        "now is <timestamp>; id <id>"
    );
    assert_eq!(
        generalize(
            "7c9180857a1f0001a1b2c3d4e5f60001 at 2026-11-01T09:00:00.000Z",
            known
        ),
        "7c9180857a1f0001a1b2c3d4e5f60001 at 2026-11-01T09:00:00.000Z"
    );
}

#[test]
fn proxy_responses_are_read_like_handler_responses() {
    let v1 = serde_json::json!({
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "X-Total-Count": ["4"]},
        "body": "[1,2]",
        "isBase64Encoded": false
    });
    let a = Actual::from_proxy_response(&v1).expect("a proxy response");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.headers.get("X-Total-Count").map(String::as_str),
        Some("4")
    );
    assert_eq!(a.body, serde_json::json!([1, 2]));
    let encoded = serde_json::json!({"statusCode": 202, "body": "e30=", "isBase64Encoded": true});
    let a = Actual::from_proxy_response(&encoded).expect("a proxy response");
    assert_eq!(a.body, serde_json::json!({}));
}
