//! The largest access request the bounds allow (SPEC §2, docs/decisions.md "Size
//! bounds"): 25 items with the longest ids, names and descriptions the seed
//! may hold, written in four-byte characters, with as much comment and
//! metadata as the limits let in; taken through its two approval steps
//! per item (the manager's, a governance group's), each forwarded as often as allowed with the longest comment
//! that fits, and approved with the longest comment that fits. Every write
//! of that walk is weighed as DynamoDB weighs the item it stores (the
//! record encoded as the DynamoDB store encodes it, with its keys). Then,
//! on DynamoDB:
//!
//! - the walk's largest transaction is made again, and succeeds;
//! - the finished request, with its approvals' items and list entries, is
//!   stored, and every item in the table is measured by DynamoDB's rules:
//!   all far below 400 KB;
//! - 250 status rows of such requests (each also closed with the longest
//!   message) are read as a caller reads them: the page, as the function
//!   answers it, is below Lambda's 6 MB.
//!
//! The walk runs on the in-process store: on moto_server each of its ~100
//! multi-megabyte transactions takes seconds. The figures are printed
//! (`cargo test --test sizes -- --nocapture`); docs/decisions.md quotes them.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::hooked::{Call, Hooked, Hooks};
use common::*;
use serde_json::{json, Value};
use shared::auth::Principal;
use shared::domain::access_requests::close::closed;
use shared::domain::access_requests::{status, submit::submit};
use shared::domain::approvals::decide;
use shared::error::ApiError;
use shared::http::ApiResponse;
use shared::limits::{
    MAX_COMMENT_CHARS, MAX_DESCRIPTION_CHARS, MAX_FORWARDS_PER_STEP, MAX_ID_CHARS,
    MAX_METADATA_ENTRIES, MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS, MAX_NAME_CHARS,
    MAX_REQUEST_TEXT_CHARS, MAX_ROW_BYTES,
};
use shared::models::{
    AccessRequest, CommentBody, CompletionStatus, ExecutionStatus, ForwardApprovalDto, RequestState,
};
use shared::records::{new_id, AccessRequestRecord};
use shared::store::dynamo::{attributes_size, item_size};
use shared::store::item::{Index, Item, Key, Record, Write};
use shared::store::{keys, Store, StoreError, TenantRecords};

/// A four-byte character: the most any character weighs in UTF-8, and in
/// JSON escaped once or twice.
const HEAVY: &str = "🦀";
const ITEMS: usize = 25;
/// Each item's approval steps: its target's manager, then a governance group.
const STEPS: usize = 2;
const DYNAMODB_ITEM_LIMIT: usize = 400 * 1024;
const DYNAMODB_TRANSACTION_LIMIT: usize = 4 * 1024 * 1024;
const LAMBDA_RESPONSE_LIMIT: usize = 6 * 1024 * 1024;

fn heavy(n: usize) -> String {
    HEAVY.repeat(n)
}

/// An id of the longest shape, distinct by `tag`.
fn long_id(tag: &str) -> String {
    format!("{tag}{}", "0".repeat(MAX_ID_CHARS - tag.len()))
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A tenant whose every id, name and description is as long as the seed
/// may have it: the target, her manager, the items' owner, a governance
/// group of two, two identities to forward to, and an administrator; each
/// item approved by the target's manager, then the group.
fn heavy_seed(tenant: &str) -> String {
    let person = |tag: &str| json!({"id": long_id(tag), "name": heavy(MAX_NAME_CHARS)});
    let mut target = person("target");
    target["managerId"] = json!(long_id("manager"));
    let identities = vec![
        target,
        person("manager"),
        person("owner"),
        person("membera"),
        person("memberb"),
        person("forwarda"),
        person("forwardb"),
        person("admin"),
    ];
    let catalog: Vec<Value> = (0..ITEMS)
        .map(|i| {
            json!({"type": "ACCESS_PROFILE", "id": long_id(&format!("item{i:02}")),
                   "name": heavy(MAX_NAME_CHARS), "description": heavy(MAX_DESCRIPTION_CHARS),
                   "requestable": true, "ownerId": long_id("owner"),
                   "approvalSchemes": [{"scheme": "MANAGER"},
                                       {"scheme": "GOVERNANCE_GROUP", "approverId": long_id("group")}]})
        })
        .collect();
    json!({"tenants": [{
        "tenantId": tenant, "name": "heavy",
        "identities": identities,
        "governanceGroups": [{"id": long_id("group"), "name": heavy(MAX_NAME_CHARS),
                              "memberIds": [long_id("membera"), long_id("memberb")]}],
        "catalog": catalog
    }]})
    .to_string()
}

fn administrator(tenant: &str) -> Principal {
    principal(tenant, Some(&long_id("admin")), &["ORG_ADMIN"])
}

/// Weighs every write batch: the largest, and the last.
#[derive(Default)]
struct Weigh {
    largest_write: AtomicUsize,
    largest_item: AtomicUsize,
    last_write: AtomicUsize,
}

#[async_trait]
impl Hooks for Weigh {
    async fn before(&self, call: &Call<'_>) -> Result<(), StoreError> {
        if let Call::Write(writes) = call {
            let sizes: Vec<usize> = writes
                .iter()
                .filter_map(|w| match w {
                    Write::Put { item, .. } => Some(item_size(item).expect("encodes")),
                    // A counter item holds a few named counts: 1 KiB is
                    // more than any weighs.
                    Write::Add { .. } => Some(1024),
                    _ => None,
                })
                .collect();
            let total = sizes.iter().sum();
            self.last_write.store(total, Ordering::SeqCst);
            self.largest_write.fetch_max(total, Ordering::SeqCst);
            self.largest_item
                .fetch_max(sizes.into_iter().max().unwrap_or(0), Ordering::SeqCst);
        }
        Ok(())
    }
}

/// The bytes a budget's 400 says are too many (`None` for another answer).
fn too_many(e: &ApiError) -> Option<usize> {
    let ApiError::BadRequest(causes) = e else {
        return None;
    };
    causes.iter().find_map(|c| {
        let end = c.find(" bytes too many")?;
        c[..end].rsplit(' ').next()?.parse().ok()
    })
}

/// Calls `attempt` with `n` four-byte characters of text, fewer each time
/// the budget says by how many bytes it overflows, down to `floor`; the
/// length accepted, or `None` when not even `floor` fits.
async fn longest<F, Fut>(mut n: usize, floor: usize, attempt: F) -> Option<usize>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    loop {
        match attempt(n).await {
            Ok(()) => return Some(n),
            Err(e) => {
                let over = too_many(&e).unwrap_or_else(|| panic!("{n} characters: {e:?}"));
                if n == floor {
                    return None;
                }
                n = n.saturating_sub(over.div_ceil(HEAVY.len())).max(floor);
            }
        }
    }
}

/// `record` with fresh ids (request, items, approvals): a copy that lists
/// beside it.
fn copy_of(record: &AccessRequestRecord) -> AccessRequestRecord {
    let mut copy = record.clone();
    copy.id = new_id();
    for item in &mut copy.items {
        item.account_activity_item_id = new_id();
        for a in &mut item.approvals {
            a.approval_id = new_id();
        }
    }
    copy
}

/// A change the walk makes: a forward or an approval, with its comment's
/// length in four-byte characters.
#[derive(Debug, Clone)]
enum Change {
    Forward {
        step: String,
        to: String,
        chars: usize,
    },
    Approve {
        step: String,
        chars: usize,
    },
}

impl Change {
    async fn make(&self, store: &Store, who: &Principal) -> Result<(), ApiError> {
        match self {
            Change::Forward { step, to, chars } => {
                let body = ForwardApprovalDto {
                    new_owner_id: to.clone(),
                    comment: heavy(*chars),
                };
                decide::forward(&shared::plan::Runner::new(store), who, step, &body, now())
                    .await
                    .map(|_| ())
            }
            Change::Approve { step, chars } => {
                let body = CommentBody {
                    comment: (*chars > 0).then(|| heavy(*chars)),
                };
                decide::approve(&shared::plan::Runner::new(store), who, step, &body, now())
                    .await
                    .map(|_| ())
            }
        }
    }
}

/// A request as the store keys and indexes it (by requester, by target,
/// in its shard of the tenant), without its approvals' items. (Should the
/// layout change, the page below finds fewer rows than it asserts.)
fn request_item(tenant: &str, record: AccessRequestRecord) -> Item {
    let sort = keys::chronological(&record.created, &record.id);
    let id = record.id.clone();
    let (requester, target) = (record.requester.id.clone(), record.requested_for.id.clone());
    Item::new(
        keys::request(tenant, &record.id),
        Record::AccessRequest(Arc::new(record)),
    )
    .indexed(
        Index::Gsi1,
        Key::new(keys::requester(tenant, &requester), sort.clone()),
    )
    .indexed(
        Index::Gsi2,
        Key::new(keys::requested_for(tenant, &target), sort.clone()),
    )
    .indexed(
        Index::Gsi3,
        Key::new(keys::tenant_requests(tenant, keys::shard(&id)), sort),
    )
}

#[tokio::test]
async fn the_largest_request_fits_dynamodb_and_a_page_of_its_rows_fits_lambda() {
    let Some(endpoint) = dynamo_endpoint() else {
        return;
    };
    let tenant = "heavy-tenant";
    let seed = shared::seed::SeedFile::from_json(&heavy_seed(tenant)).unwrap();
    let walked = Store::memory();
    seed.load_into(&walked).await.unwrap();
    let store = Hooked::new(&walked, Weigh::default());
    let admin = administrator(tenant);
    let started = std::time::Instant::now();

    // The submission: every item with its comment, metadata and dates,
    // every text scaled down alike until the limits take it.
    let metadata = |scale: usize| -> serde_json::Map<String, Value> {
        (0..MAX_METADATA_ENTRIES)
            .map(|e| {
                let key_chars = (MAX_METADATA_KEY_CHARS * scale / 1000).max(2);
                (
                    format!("{e}{}", heavy(key_chars - 1)),
                    json!(heavy(MAX_METADATA_VALUE_CHARS * scale / 1000)),
                )
            })
            .collect()
    };
    let later = |days: i64| shared::time::format(&(Utc::now() + Duration::days(days)));
    let body = |scale: usize| -> AccessRequest {
        let items: Vec<Value> = (0..ITEMS)
            .map(|i| {
                json!({"type": "ACCESS_PROFILE", "id": long_id(&format!("item{i:02}")),
                       "comment": heavy(MAX_COMMENT_CHARS * scale / 1000),
                       "clientMetadata": metadata(scale),
                       "startDate": later(30), "removeDate": later(400)})
            })
            .collect();
        serde_json::from_value(json!({"requestedFor": [long_id("target")],
                                      "requestedItems": items,
                                      "clientMetadata": metadata(1000)}))
        .unwrap()
    };
    // The largest scale (thousandths of every bound) taken, on a store of
    // its own so that the attempts leave nothing behind.
    let (mut low, mut high): (usize, usize) = (0, 1000);
    while low < high {
        let mid = (low + high).div_ceil(2);
        let probe = Store::memory();
        seed.load_into(&probe).await.unwrap();
        match submit(&shared::plan::Runner::new(&probe), &admin, body(mid), now()).await {
            Ok(_) => low = mid,
            Err(e) if too_many(&e).is_some() => high = mid - 1,
            Err(e) => panic!("scale {mid}: {e:?}"),
        }
    }
    let id = submit(&shared::plan::Runner::new(&store), &admin, body(low), now())
        .await
        .unwrap_or_else(|e| panic!("scale {low}: {e:?}"))
        .new_requests[0]
        .access_request_ids[0]
        .clone();

    // Every step: forwarded as often as allowed, then approved, each time
    // with the longest comment that fits. The change that wrote the largest
    // transaction is kept, with the request as it was before it.
    let forward_to = [long_id("forwarda"), long_id("forwardb")];
    let (mut forwards, mut approvals, mut comment_chars) = (0, 0, 0);
    let mut largest: Option<(usize, AccessRequestRecord, Change)> = None;
    while let Some(step) = stored(&store, tenant, &id)
        .await
        .items
        .iter()
        .find_map(|i| i.pending_approval().map(|a| a.approval_id.clone()))
    {
        // Five forwards (fewer once not one more character fits), then
        // the approval.
        let mut forwards_full = false;
        for hop in 0..=MAX_FORWARDS_PER_STEP {
            let approve = hop == MAX_FORWARDS_PER_STEP;
            if forwards_full && !approve {
                continue;
            }
            let to = &forward_to[hop % 2];
            let change = |chars| {
                if approve {
                    Change::Approve {
                        step: step.clone(),
                        chars,
                    }
                } else {
                    Change::Forward {
                        step: step.clone(),
                        to: to.clone(),
                        chars,
                    }
                }
            };
            let (max, floor) = if approve {
                (MAX_COMMENT_CHARS, 0)
            } else {
                (255, 1)
            };
            let before = stored(&store, tenant, &id).await;
            let taken = longest(max, floor, |chars| {
                let (store, admin, change) = (&store, &admin, change(chars));
                async move { change.make(store, admin).await }
            })
            .await;
            let Some(chars) = taken else {
                assert!(!approve, "an approval without a comment always fits");
                forwards_full = true;
                continue;
            };
            comment_chars += chars;
            if approve {
                approvals += 1;
            } else {
                forwards += 1;
            }
            let written = store.hooks.last_write.load(Ordering::SeqCst);
            if largest.as_ref().is_none_or(|(w, _, _)| written > *w) {
                largest = Some((written, before, change(chars)));
            }
        }
    }
    let done = stored(&store, tenant, &id).await;
    assert_eq!(done.state, RequestState::RequestCompleted);
    assert_eq!(
        approvals,
        ITEMS * STEPS,
        "every step was approved, none was stuck"
    );
    assert!(forwards > 0);
    let largest_write = store.hooks.largest_write.load(Ordering::SeqCst);
    let largest_item = store.hooks.largest_item.load(Ordering::SeqCst);
    println!(
        "submitted at {low}/1000 of every text bound ({} comment characters per item); \
         {approvals} approvals and {forwards} forwards, {comment_chars} characters of their \
         comments; largest item written {largest_item} bytes, largest transaction \
         {largest_write} bytes ({:.1?})",
        MAX_COMMENT_CHARS * low / 1000,
        started.elapsed()
    );
    assert!(largest_item < DYNAMODB_ITEM_LIMIT / 2, "{largest_item}");
    assert!(
        largest_write < DYNAMODB_TRANSACTION_LIMIT * 9 / 10,
        "{largest_write}"
    );

    // On DynamoDB: the largest transaction again, from the request as it
    // was before it.
    let table_store = fresh_dynamo(&endpoint).await;
    let (client, table) = (
        table_store.client().clone(),
        table_store.table().to_string(),
    );
    let dynamo = Store::new(Arc::new(table_store));
    seed.load_into(&dynamo).await.unwrap();
    let (weight, before, change) = largest.unwrap();
    let load = |records: Vec<AccessRequestRecord>| {
        let dynamo = dynamo.clone();
        async move {
            dynamo
                .load_tenant(
                    tenant,
                    TenantRecords {
                        access_requests: records,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    load(vec![before]).await;
    let on_dynamo = Hooked::new(&dynamo, Weigh::default());
    change
        .make(&on_dynamo, &admin)
        .await
        .unwrap_or_else(|e| panic!("{change:?} on DynamoDB: {e:?}"));
    assert_eq!(on_dynamo.hooks.last_write.load(Ordering::SeqCst), weight);

    // Every item in the table, as DynamoDB weighs it: the request and each
    // approval's copy of it as the largest change left them, and the
    // finished request.
    dynamo
        .backend()
        .load(vec![request_item(tenant, done.clone())])
        .await
        .unwrap();
    let mut largest_stored = 0;
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(&table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            largest_stored = largest_stored.max(attributes_size(item));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    println!(
        "on DynamoDB: the largest transaction again ({weight} bytes); largest item stored \
         {largest_stored} bytes"
    );
    assert!(largest_stored < DYNAMODB_ITEM_LIMIT / 2, "{largest_stored}");
    // Out of the way of the page below, which holds only the heaviest rows.
    dynamo
        .backend()
        .write(vec![Write::delete(keys::request(tenant, &done.id))])
        .await
        .unwrap();

    // 250 rows: ten such requests, each also closed with the longest
    // message (text a completed request cannot get: every row carries the
    // most text any row can).
    let heaviest = closed(
        &done,
        ExecutionStatus::Completed,
        CompletionStatus::Success,
        &heavy(MAX_REQUEST_TEXT_CHARS),
        now(),
    );
    // Only the requests themselves (their approvals' copies would add
    // nothing to a status page).
    let rows: Vec<Item> = (0..10)
        .map(|_| request_item(tenant, copy_of(&heaviest)))
        .collect();
    dynamo.backend().load(rows).await.unwrap();
    let query = status::parse_query(
        &[
            ("limit".to_string(), vec!["250".to_string()]),
            ("requested-for".to_string(), vec![long_id("target")]),
        ]
        .into_iter()
        .collect(),
    )
    .unwrap();
    let page = status::list(&dynamo, &admin, &query).await.unwrap();
    assert_eq!(page.items.len(), 250);
    let largest_row = page
        .items
        .iter()
        .map(shared::limits::escaped_json_bytes)
        .max()
        .unwrap();
    assert!(largest_row <= MAX_ROW_BYTES, "{largest_row}");
    let answer = ApiResponse::json(200, &page.items).unwrap();
    let body = answer.body.len();
    let proxied =
        serde_json::to_vec(&answer.to_proxy(&lambda_http::request::RequestOrigin::ApiGatewayV1))
            .unwrap()
            .len();
    println!(
        "a page of 250 status rows: {body} bytes of JSON, {proxied} bytes as the function \
         answers it (largest row {largest_row} bytes as answered)"
    );
    assert!(proxied < LAMBDA_RESPONSE_LIMIT * 9 / 10, "{proxied}");
}
