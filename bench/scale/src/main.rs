//! The scale benchmark: what each list call costs with 1,000 to 1,000,000
//! requests of history in a tenant, on the in-process store and on
//! DynamoDB (a DynamoDB-compatible server named by `DYNAMODB_TEST_ENDPOINT`:
//! `scripts/with-moto.sh` starts one). `bash bench/scale.sh` runs it all.
//!
//! ```text
//! bench-scale run --store memory --sizes 1000,10000 [--repeat 5]
//! bench-scale run --store dynamo --sizes 1000 --keep-tables
//! bench-scale seed --n 100000 --out seed.json
//! ```
//!
//! `run` loads the demo seed and a history of `n` decided access requests
//! (its four users' own, each approved by the admin at one `ROLE_OWNER`
//! step) and `n` approved non-employee requests (sponsored by the same
//! users, approved by the admin), then makes every list call of
//! [`calls`] `--repeat` times and prints one JSON line per size: the
//! median latency, the rows answered, the store calls and the items they
//! read. `seed` writes the demo seed with such a history of access
//! requests, for the local server (`local-api --seed`).

use std::sync::Arc;
use std::time::Instant;

mod shards;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use shared::auth::Principal;
use shared::history::{History, List, ListCall};
use shared::records::{NamedRef, SourceRef};
use shared::seed::{SeedFile, DEMO_SEED};
use shared::store::testing::{local_client, RequestCounter};
use shared::store::{DynamoStore, MemoryStore, Store, TenantRecords};

const ACME: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
const ADMIN: &str = "2c9180835d191a86015d28455b4a0001";
const MANAGER: &str = "2c9180835d191a86015d28455b4a0002";
const EMPLOYEE: &str = "2c9180835d191a86015d28455b4a0003";
const ENGINEER: &str = "2c9180835d191a86015d28455b4a0004";
const NINA: &str = "2c9180835d191a86015d28455b4a0007";
/// The demo catalog's Auditor role.
const ROLE_AUDITOR: &str = "2c918086771c86df0177401efcdf0002";

#[derive(Parser)]
#[command(
    name = "bench-scale",
    about = "What list calls cost as a tenant's history grows"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Loads each history size and times every list call on it.
    Run {
        #[arg(long, value_enum)]
        store: Backend,
        /// History sizes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
        sizes: Vec<usize>,
        /// Calls of each kind; the median is reported.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// DynamoDB: keep each size's table (`scale-<n>`) for later steps.
        #[arg(long)]
        keep_tables: bool,
        /// Only the calls whose name contains one of these (comma-separated),
        /// e.g. `first page,count=true`.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Writes the demo seed with `n` decided access requests of history.
    Seed {
        #[arg(long)]
        n: usize,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Simulates `submits` submissions in one tenant over `seconds` and
    /// prints the largest write rate any one partition key takes, with the
    /// layout as it was (one tenant-wide partition per list, no counts),
    /// with counts but no shards, and as it is (shards).
    Shards {
        #[arg(long, default_value_t = 100_000)]
        submits: usize,
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// How long a transaction holds its items, for the count of
        /// transactions that meet on one item.
        #[arg(long, default_value_t = 20.0)]
        transaction_ms: f64,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Memory,
    Dynamo,
}

fn principal(identity: &str, authorities: &[&str]) -> Principal {
    Principal {
        tenant_id: ACME.into(),
        identity_id: Some(identity.into()),
        user_name: None,
        client_id: Some("bench".into()),
        authorities: authorities.iter().map(|a| a.to_string()).collect(),
        scopes: None,
    }
}

fn named(id: &str, name: &str) -> NamedRef {
    NamedRef {
        id: id.into(),
        name: name.into(),
    }
}

/// The history: four users' own requests, approved by the admin, one a
/// second from a year and a half ago on.
fn history() -> History {
    History {
        users: vec![
            named(EMPLOYEE, "Eve Employee"),
            named(ENGINEER, "Evan Engineer"),
            named(MANAGER, "Maria Manager"),
            named(NINA, "Nina Newhire"),
        ],
        approver: named(ADMIN, "Ada Admin"),
        role: (ROLE_AUDITOR.into(), "Auditor".into()),
        start: history_start(),
    }
}

fn history_start() -> DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
        .expect("a date")
        .with_timezone(&Utc)
}

/// Loads `n` requests of history (and `n` non-employee requests) in chunks.
async fn load_history(store: &Store, n: usize, non_employee: bool) {
    const CHUNK: usize = 20_000;
    let history = history();
    let source = SourceRef {
        id: "history-source".into(),
        name: "History".into(),
        description: None,
        account_manager_ids: Vec::new(),
    };
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let records = TenantRecords {
            access_requests: (start..end).map(|i| history.access_request(i)).collect(),
            non_employee_requests: if non_employee {
                (start..end)
                    .map(|i| history.non_employee_request(i, &source))
                    .collect()
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        store
            .load_tenant(ACME, records)
            .await
            .expect("history loads");
    }
}

/// A list by name: whose, with which parameters.
type Listing<'a> = (&'a str, List, &'a Principal, Vec<(&'a str, &'a str)>);

/// Every list call the benchmark makes, by name: each list's first page in
/// its default order, the page at offset 1,000, the page with its total,
/// the summaries, and one page in an order that is not its key order.
fn calls() -> Vec<(String, ListCall)> {
    use List::*;
    let admin = principal(ADMIN, &["ORG_ADMIN"]);
    let eve = principal(EMPLOYEE, &["USER"]);
    let mid = "2025-06-01T12:00:00Z";
    let created_gt = format!("created gt {mid}");
    let lists: Vec<Listing> = vec![
        ("status, tenant (ORG_ADMIN)", Status, &admin, vec![]),
        ("status, own (regarding me)", Status, &eve, vec![]),
        (
            "status, requested-for one identity",
            Status,
            &admin,
            vec![("requested-for", EMPLOYEE)],
        ),
        (
            "status, assigned-to the approver",
            Status,
            &admin,
            vec![("assigned-to", "me")],
        ),
        (
            "status, tenant, created gt (filter)",
            Status,
            &admin,
            vec![("filters", created_gt.as_str())],
        ),
        (
            "pending approvals, own",
            PendingApprovals,
            &admin,
            vec![("owner-id", "me")],
        ),
        (
            "pending approvals, tenant",
            PendingApprovals,
            &admin,
            vec![],
        ),
        (
            "completed approvals, own",
            CompletedApprovals,
            &admin,
            vec![("owner-id", "me")],
        ),
        (
            "completed approvals, own, by -modified",
            CompletedApprovals,
            &admin,
            vec![("owner-id", "me"), ("sorters", "-modified")],
        ),
        (
            "completed approvals, tenant",
            CompletedApprovals,
            &admin,
            vec![],
        ),
        (
            "non-employee requests, sponsor",
            NonEmployeeRequests,
            &eve,
            vec![("requested-for", "me")],
        ),
        (
            "non-employee approvals, approver",
            NonEmployeeApprovals,
            &admin,
            vec![],
        ),
    ];
    let mut calls = Vec::new();
    for (name, list, who, params) in &lists {
        for (variant, extra) in [
            ("first page", vec![("limit", "25")]),
            ("offset 1000", vec![("limit", "25"), ("offset", "1000")]),
            ("count=true", vec![("limit", "25"), ("count", "true")]),
        ] {
            let mut all = params.clone();
            all.extend(extra);
            calls.push((
                format!("{name}: {variant}"),
                ListCall::new(*list, who, &all),
            ));
        }
    }
    for (name, list, who, params) in [
        (
            "approval summary, own",
            ApprovalSummary,
            &admin,
            vec![("owner-id", "me")],
        ),
        ("approval summary, tenant", ApprovalSummary, &admin, vec![]),
        (
            "approval summary, tenant, from-date",
            ApprovalSummary,
            &admin,
            vec![("from-date", "2026-11-01T00:00:00Z")],
        ),
        (
            "non-employee request summary",
            NonEmployeeRequestSummary,
            &eve,
            vec![],
        ),
        (
            "non-employee approval summary",
            NonEmployeeApprovalSummary,
            &admin,
            vec![],
        ),
        (
            "status, own, sorted by name (not the key order)",
            Status,
            &eve,
            vec![("limit", "25"), ("sorters", "name")],
        ),
    ] {
        calls.push((name.to_string(), ListCall::new(list, who, &params)));
    }
    calls
}

/// Counts a store's calls and the items they read.
enum Meter {
    Memory(Arc<MemoryStore>),
    Dynamo(RequestCounter),
}

impl Meter {
    fn reset(&self) {
        match self {
            Meter::Memory(m) => m.reset_reads(),
            Meter::Dynamo(c) => c.reset(),
        }
    }

    /// `(calls, items read)` since the last reset.
    fn read(&self) -> (usize, usize) {
        match self {
            Meter::Memory(m) => m.reads(),
            Meter::Dynamo(c) => (c.total(), c.items_read()),
        }
    }
}

/// This process's resident memory now and at its peak, in MB.
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn store_for(backend: Backend, n: usize) -> (Store, Meter) {
    match backend {
        Backend::Memory => {
            let memory = Arc::new(MemoryStore::new());
            (Store::new(memory.clone()), Meter::Memory(memory))
        }
        Backend::Dynamo => {
            let endpoint = std::env::var("DYNAMODB_TEST_ENDPOINT")
                .expect("DYNAMODB_TEST_ENDPOINT names the DynamoDB-compatible server");
            let table = format!("scale-{n}");
            let plain = local_client(&endpoint, None).await;
            // A fresh table: one left by an earlier run goes first.
            let _ = plain.delete_table().table_name(&table).send().await;
            shared::store::dynamo::create_table(&plain, &table)
                .await
                .expect("table created");
            let counter = RequestCounter::new();
            let counted = local_client(&endpoint, Some(counter.clone())).await;
            (
                Store::new(Arc::new(DynamoStore::new(counted, table))),
                Meter::Dynamo(counter),
            )
        }
    }
}

/// Items read past which a call is timed once.
const HEAVY_READS: usize = 1_000;

async fn run(backend: Backend, n: usize, repeat: usize, only: &[String]) -> Value {
    let (store, meter) = store_for(backend, n).await;
    let started = Instant::now();
    SeedFile::from_json(DEMO_SEED)
        .expect("the demo seed parses")
        .load_into(&store)
        .await
        .expect("the demo seed loads");
    load_history(&store, n, true).await;
    // As the local server does once its seed is in.
    shared::heap::release_free_memory();
    let load_s = started.elapsed().as_secs_f64();
    let (rss, peak) = rss_mb();
    eprintln!("bench-scale: {n} requests of history loaded in {load_s:.1} s");
    let mut results = Vec::new();
    for (name, call) in calls() {
        if !only.is_empty() && !only.iter().any(|o| name.contains(o.as_str())) {
            continue;
        }
        let mut times = Vec::new();
        let mut outcome = (0, String::new());
        let mut reads = (0, 0);
        for round in 0..repeat {
            // A call that reads thousands of items is timed once: on
            // moto_server each repeat takes seconds, and its figure is the
            // items it reads.
            if round > 0 && reads.1 > HEAVY_READS {
                break;
            }
            meter.reset();
            let started = Instant::now();
            let answer = call.call(&store).await;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            reads = meter.read();
            outcome = match answer {
                Ok(rows) => (rows, "200".to_string()),
                Err(e) => (
                    0,
                    format!(
                        "{}",
                        shared::http::ApiResponse::error(
                            &e,
                            "bench",
                            shared::models::LocaleOrigin::Default,
                        )
                        .status
                    ),
                ),
            };
        }
        times.sort_by(|a, b| a.total_cmp(b));
        results.push(json!({
            "call": name,
            "status": outcome.1,
            "rows": outcome.0,
            "median_ms": times[times.len() / 2],
            "calls": reads.0,
            "items_read": reads.1,
        }));
    }
    json!({
        "store": match backend { Backend::Memory => "memory", Backend::Dynamo => "dynamodb" },
        "n": n,
        "load_s": load_s,
        "rss_mb_after_load": rss,
        "peak_rss_mb": peak,
        "results": results,
    })
}

/// The demo seed with `n` decided access requests of history in acme.
fn seed(n: usize) -> Value {
    let mut seed: Value = serde_json::from_str(DEMO_SEED).expect("the demo seed parses");
    let history = history();
    let tenant = seed["tenants"]
        .as_array_mut()
        .and_then(|t| t.iter_mut().find(|t| t["tenantId"] == ACME))
        .expect("acme is in the demo seed");
    let requests = tenant["accessRequests"]
        .as_array_mut()
        .expect("acme has access requests");
    for i in 0..n {
        requests.push(serde_json::to_value(history.access_request(i)).expect("a record"));
    }
    seed
}

#[tokio::main]
async fn main() {
    // The allocator set up as every serving process has it.
    shared::heap::keep_freed_memory();
    match Cli::parse().command {
        Command::Run {
            store,
            sizes,
            repeat,
            keep_tables,
            only,
        } => {
            for n in sizes {
                let line = run(store, n, repeat, &only).await;
                println!("{line}");
                if store == Backend::Dynamo && !keep_tables {
                    let endpoint = std::env::var("DYNAMODB_TEST_ENDPOINT").unwrap_or_default();
                    let client = local_client(&endpoint, None).await;
                    let _ = client
                        .delete_table()
                        .table_name(format!("scale-{n}"))
                        .send()
                        .await;
                }
            }
        }
        Command::Seed { n, out } => {
            let text = serde_json::to_string(&seed(n)).expect("JSON");
            std::fs::write(&out, text).expect("the seed file is written");
        }
        Command::Shards {
            submits,
            seconds,
            transaction_ms,
        } => {
            let report = shards::simulate(submits, seconds, transaction_ms).await;
            println!("{report}");
        }
    }
}
