//! The write rate of the hottest partition key, simulated: `n` submissions
//! in one tenant, spread evenly over `seconds`, each through the real
//! submit (`shared::domain::access_requests::submit`) on an in-process
//! store that records every write: its item's key, its index keys and its
//! size as DynamoDB counts it. Each write costs write units as DynamoDB
//! charges them — in a transaction twice the item's size in KB, rounded up;
//! an index copy of a written item its size in KB at the index's partition
//! key — and the units are added up per partition key and second.
//!
//! Three layouts are compared, by mapping the recorded keys: the one before
//! shards and counts (every tenant-wide list one partition key, no counter
//! items), with counts but no shards, and the layout as it is. DynamoDB
//! serves at most 1,000 write units a second to one partition key.
//!
//! It also counts, for each counter item, the most transactions that touch
//! it within one `transaction_ms` window: DynamoDB cancels a transaction
//! that meets another on one item (a conflict, retried), so that number
//! says how often they would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};
use shared::auth::Principal;
use shared::seed::SeedFile;
use shared::store::item::{Cursor, Item, ItemStore, Query, QueryPage, Read, Write};
use shared::store::{MemoryStore, Store, StoreError};

const TENANT: &str = "5c1a0000-0000-4000-8000-000000000001";
const IDENTITIES: usize = 10_000;
const MANAGERS: usize = 100;
const ITEMS: usize = 10;

/// One write as DynamoDB meters it: the partition keys it writes to and
/// the units at each; whether it is a counter item (for conflicts).
struct Metered {
    at: f64,
    units: Vec<(String, u64)>,
    counters: Vec<String>,
}

/// An in-process store that meters every write.
struct Metering {
    inner: MemoryStore,
    clock: Mutex<f64>,
    writes: Mutex<Vec<Metered>>,
}

fn kb(bytes: usize) -> u64 {
    bytes.div_ceil(1024).max(1) as u64
}

#[async_trait]
impl ItemStore for Metering {
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError> {
        self.inner.get(reads).await
    }

    async fn query_page(
        &self,
        query: &Query,
        after: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<QueryPage, StoreError> {
        self.inner.query_page(query, after, limit).await
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let transaction = writes.len() > 1;
        let mut metered = Metered {
            at: *self.clock.lock().unwrap(),
            units: Vec::new(),
            counters: Vec::new(),
        };
        let factor = if transaction { 2 } else { 1 };
        for w in &writes {
            match w {
                Write::Put { item, .. } => {
                    let size = shared::store::dynamo::item_size(item)?;
                    metered
                        .units
                        .push((item.key.pk.to_string(), factor * kb(size)));
                    for (_, key) in &item.indexes {
                        metered.units.push((key.pk.to_string(), kb(size)));
                    }
                }
                Write::Add { key, .. } => {
                    metered.units.push((key.pk.to_string(), factor));
                    metered.counters.push(key.pk.to_string());
                }
                Write::Delete { key, .. } | Write::Check { key, .. } => {
                    metered.units.push((key.pk.to_string(), factor));
                }
            }
        }
        self.inner.write(writes).await?;
        self.writes.lock().unwrap().push(metered);
        Ok(())
    }

    async fn load(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.inner.load(items).await
    }
}

/// A tenant of `IDENTITIES` identities, each managed by one of `MANAGERS`,
/// and `ITEMS` access profiles approved by the manager.
fn seed() -> Value {
    let identities: Vec<Value> = (0..IDENTITIES)
        .map(|i| {
            json!({"id": format!("id-{i:05}"), "name": format!("Identity {i}"),
                        "managerId": format!("id-{:05}", i % MANAGERS)})
        })
        .collect();
    let catalog: Vec<Value> = (0..ITEMS)
        .map(|i| {
            json!({"type": "ACCESS_PROFILE", "id": format!("ap-{i:02}"),
                        "name": format!("Profile {i}"), "requestable": true,
                        "ownerId": "id-00000", "approvalSchemes": [{"scheme": "MANAGER"}]})
        })
        .collect();
    json!({"tenants": [{"tenantId": TENANT, "name": "Simulated", "identities": identities,
                        "governanceGroups": [], "catalog": catalog}]})
}

/// Maps a recorded partition key to its layout's (`None`: no such item).
type Layout = fn(&str) -> Option<String>;

/// A partition key as it was before shards and counts (`None`: the layout
/// had no such item), or with counts but without shards.
fn unsharded(pk: &str, counts: bool) -> Option<String> {
    for list in [
        "#REQUESTS#",
        "#APPROVALS#",
        "#DECIDED#",
        "#EVENTS#",
        "#COUNTS#TENANT#",
    ] {
        if let Some((head, _shard)) = pk.rsplit_once(list) {
            if list.starts_with("#COUNTS") && !counts {
                return None;
            }
            return Some(format!("{head}{}", list.trim_end_matches('#')));
        }
    }
    if pk.contains("#COUNTS#") && !counts {
        return None;
    }
    Some(pk.to_string())
}

/// The hottest partition key's units in one second, and the most
/// transactions meeting on one counter item within `window` seconds.
fn hottest(
    writes: &[Metered],
    layout: impl Fn(&str) -> Option<String>,
    window: f64,
) -> (String, u64, usize) {
    let mut per_second: HashMap<(String, i64), u64> = HashMap::new();
    let mut touches: HashMap<String, Vec<f64>> = HashMap::new();
    for w in writes {
        for (pk, units) in &w.units {
            if let Some(pk) = layout(pk) {
                *per_second.entry((pk, w.at.floor() as i64)).or_default() += units;
            }
        }
        for pk in &w.counters {
            if let Some(pk) = layout(pk) {
                touches.entry(pk).or_default().push(w.at);
            }
        }
    }
    let ((key, _), units) = per_second
        .into_iter()
        .max_by_key(|(_, u)| *u)
        .unwrap_or_default();
    let meeting = touches
        .values_mut()
        .map(|times| {
            times.sort_by(|a, b| a.total_cmp(b));
            let (mut most, mut first) = (0, 0);
            for last in 0..times.len() {
                while times[last] - times[first] > window {
                    first += 1;
                }
                most = most.max(last - first + 1);
            }
            most
        })
        .max()
        .unwrap_or(0);
    (key, units, meeting)
}

pub async fn simulate(n: usize, seconds: f64, transaction_ms: f64) -> Value {
    let metering = Arc::new(Metering {
        inner: MemoryStore::new(),
        clock: Mutex::new(0.0),
        writes: Mutex::new(Vec::new()),
    });
    let store = Store::new(metering.clone());
    SeedFile::from_json(&seed().to_string())
        .expect("the simulated seed parses")
        .load_into(&store)
        .await
        .expect("the simulated seed loads");
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for i in 0..n {
        let at = seconds * i as f64 / n as f64;
        *metering.clock.lock().unwrap() = at;
        let who = format!("id-{:05}", i % IDENTITIES);
        let principal = Principal {
            tenant_id: TENANT.into(),
            identity_id: Some(who.clone()),
            user_name: None,
            client_id: None,
            authorities: vec!["USER".into()],
            scopes: None,
        };
        let body = serde_json::from_value(json!({
            "requestedFor": [who],
            "requestedItems": [{"type": "ACCESS_PROFILE", "id": format!("ap-{:02}", (i / IDENTITIES) % ITEMS)}]
        }))
        .expect("a submission");
        let now = start + Duration::microseconds((at * 1e6) as i64);
        shared::domain::access_requests::submit::submit(
            &shared::plan::Runner::new(&store),
            &principal,
            body,
            now,
        )
        .await
        .expect("the submission is stored");
    }
    let writes = metering.writes.lock().unwrap();
    let window = transaction_ms / 1000.0;
    let layouts: [(&str, Layout); 3] = [
        (
            "before: one partition per tenant-wide list, no counts",
            |pk| unsharded(pk, false),
        ),
        ("counts, no shards", |pk| unsharded(pk, true)),
        ("as built: counts and shards", |pk| Some(pk.to_string())),
    ];
    let rows: Vec<Value> = layouts
        .iter()
        .map(|(name, layout)| {
            let (key, units, meeting) = hottest(&writes, *layout, window);
            json!({"layout": name, "hottest_key": key, "units_per_second": units,
                   "transactions_meeting_on_a_counter": meeting})
        })
        .collect();
    json!({
        "submits": n,
        "seconds": seconds,
        "rate_per_second": n as f64 / seconds,
        "transaction_ms": transaction_ms,
        "writes": writes.len(),
        "layouts": rows,
    })
}
