//! `GET /access-request-status` rules (SPEC §3, §5), each checked on every
//! store: the in-process one always, DynamoDB when `DYNAMODB_TEST_ENDPOINT`
//! is set.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::hooked::{Call, Hooked, Hooks};
use common::*;
use serde_json::{json, Value};
use shared::auth::Principal;
use shared::domain::access_requests::status::{self, StatusPage};
use shared::domain::access_requests::{cancel::cancel, submit::submit};
use shared::error::ApiError;
use shared::models::{
    AccessRequest, AccessRequestType, ApprovalScheme, CancelAccessRequest, OwnerType, PhaseResult,
    PhaseState, RequestState, RequestedItemStatus, WorkItemState,
};
use shared::records::{AccessRequestRecord, NamedRef};
use shared::store::item::Query;
use shared::store::{RequestIndex, Store, StoreError};

// ---------------------------------------------------------------- helpers

/// A table row: the rule, who asks, the query parameters, what is expected.
type Row<'a, T> = (&'a str, Principal, Vec<(&'a str, &'a str)>, T);

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k.to_string()).or_default().push(v.to_string());
    }
    map
}

async fn list(
    store: &Store,
    who: &Principal,
    pairs: &[(&str, &str)],
) -> Result<StatusPage, ApiError> {
    let q = status::parse_query(&params(pairs))?;
    status::list(store, who, &q).await
}

async fn page(store: &Store, who: &Principal, pairs: &[(&str, &str)]) -> StatusPage {
    list(store, who, pairs)
        .await
        .unwrap_or_else(|e| panic!("{pairs:?}: {e:?}"))
}

/// The access request ids of a page, one per item, sorted.
fn request_ids(items: &[RequestedItemStatus]) -> Vec<String> {
    let mut ids: Vec<String> = items.iter().map(|i| i.access_request_id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn item_ids(items: &[RequestedItemStatus]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.account_activity_item_id.clone())
        .collect()
}

fn bad_request(label: &str, result: Result<StatusPage, ApiError>) -> Vec<String> {
    match result {
        Err(ApiError::BadRequest(c)) => c,
        other => panic!("{label}: expected 400, got {other:?}"),
    }
}

fn forbidden(label: &str, result: Result<StatusPage, ApiError>) -> String {
    match result {
        Err(ApiError::Forbidden(c)) => c,
        other => panic!("{label}: expected 403, got {other:?}"),
    }
}

fn source_admin() -> Principal {
    principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"])
}
fn globex_admin() -> Principal {
    principal(GLOBEX, Some(GLOBEX_ADMIN), &["ORG_ADMIN"])
}

async fn submit_at(store: &Store, who: &Principal, at: DateTime<Utc>, v: Value) -> String {
    let body: AccessRequest = serde_json::from_value(v).unwrap();
    let r = submit(&shared::plan::Runner::new(store), who, body, at)
        .await
        .unwrap_or_else(|e| panic!("submit: {e:?}"));
    assert_eq!(r.new_requests.len(), 1, "{r:?}");
    assert_eq!(r.new_requests[0].access_request_ids.len(), 1, "{r:?}");
    r.new_requests[0].access_request_ids[0].clone()
}

/// A tenant with a known set of requests, a minute apart.
struct Fixture {
    base: DateTime<Utc>,
    /// Eve for herself: Engineering Access (MANAGER, ACCESS_PROFILE_OWNER), with metadata.
    r1: String,
    /// Maria for Evan: Finance Analyst (MANAGER, GOVERNANCE_GROUP) and Jira User (MANAGER).
    r2: String,
    /// Ada for Oscar: Auditor (ROLE_OWNER Ada).
    r3: String,
    /// Eve for herself: Wiki Reader (no approval: completed at once).
    r4: String,
    /// Maria for Eve: Auditor with a removeDate.
    r5: String,
    /// Greta (Globex) for herself.
    globex: String,
}

impl Fixture {
    fn at(&self, minutes: i64) -> DateTime<Utc> {
        self.base + Duration::minutes(minutes)
    }
}

const REMOVE_DATE: &str = "2999-06-30T00:00:00Z";

async fn populate(store: &Store) -> Fixture {
    let base = (Utc::now() - Duration::hours(1)).trunc_subsecs(0);
    let at = |m: i64| base + Duration::minutes(m);
    let r1 = submit_at(
        store,
        &employee(),
        at(1),
        json!({"requestedFor": [EMPLOYEE], "clientMetadata": {"app": "portal", "ticket": "T-1"},
               "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING, "comment": "need it",
                                   "clientMetadata": {"ticket": "T-2"}}]}),
    )
    .await;
    let r2 = submit_at(
        store,
        &manager(),
        at(2),
        json!({"requestedFor": [ENGINEER], "requestedItems": [
            {"type": "ROLE", "id": ROLE_FINANCE}, {"type": "ENTITLEMENT", "id": ENT_JIRA}
        ]}),
    )
    .await;
    let r3 = submit_at(
        store,
        &admin(),
        at(3),
        json!({"requestedFor": [OUTSIDER], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR}]}),
    )
    .await;
    let r4 = submit_at(
        store,
        &employee(),
        at(4),
        json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_WIKI}]}),
    )
    .await;
    let r5 = submit_at(
        store,
        &manager(),
        at(5),
        json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR, "removeDate": REMOVE_DATE}]}),
    )
    .await;
    let globex = submit_at(
        store,
        &globex_admin(),
        at(6),
        json!({"requestedFor": [GLOBEX_ADMIN], "requestedItems": [{"type": "ROLE", "id": GLOBEX_ROLE}]}),
    )
    .await;
    Fixture {
        base,
        r1,
        r2,
        r3,
        r4,
        r5,
        globex,
    }
}

/// Every ACME item, as ORG_ADMIN sees it (default order).
async fn all_acme(store: &Store) -> Vec<RequestedItemStatus> {
    page(store, &admin(), &[]).await.items
}

/// The order the spec promises: the sorters, then `accountActivityItemId`.
fn expected_order(
    mut items: Vec<RequestedItemStatus>,
    key: impl Fn(&RequestedItemStatus, &RequestedItemStatus) -> std::cmp::Ordering,
) -> Vec<String> {
    items.sort_by(|a, b| {
        key(a, b).then_with(|| a.account_activity_item_id.cmp(&b.account_activity_item_id))
    });
    item_ids(&items)
}

// ---------------------------------------------------------------- identity parameters

#[tokio::test]
async fn identity_parameters_select_requests_by_role() {
    for (name, store) in stores().await {
        let f = populate(&store).await;
        let s = &store;
        let cases: Vec<Row<Vec<&String>>> = vec![
            (
                "requested-for=me",
                employee(),
                vec![("requested-for", "me")],
                vec![&f.r1, &f.r4, &f.r5],
            ),
            (
                "requested-for=ME",
                employee(),
                vec![("requested-for", "ME")],
                vec![&f.r1, &f.r4, &f.r5],
            ),
            (
                "requested-for=<own id>",
                employee(),
                vec![("requested-for", EMPLOYEE)],
                vec![&f.r1, &f.r4, &f.r5],
            ),
            (
                "requested-for=<id> as admin",
                admin(),
                vec![("requested-for", ENGINEER)],
                vec![&f.r2, &f.r2],
            ),
            (
                "requested-by=me",
                manager(),
                vec![("requested-by", "me")],
                vec![&f.r2, &f.r2, &f.r5],
            ),
            (
                "requested-by=<id> as admin",
                admin(),
                vec![("requested-by", EMPLOYEE)],
                vec![&f.r1, &f.r4],
            ),
            (
                "requested-for and requested-by",
                admin(),
                vec![("requested-for", EMPLOYEE), ("requested-by", MANAGER)],
                vec![&f.r5],
            ),
            (
                "regarding-identity=me",
                employee(),
                vec![("regarding-identity", "me")],
                vec![&f.r1, &f.r4, &f.r5],
            ),
            (
                "regarding-identity=me (requester only)",
                manager(),
                vec![("regarding-identity", "me")],
                vec![&f.r2, &f.r2, &f.r5],
            ),
            (
                "regarding-identity=<id> as admin",
                admin(),
                vec![("regarding-identity", OUTSIDER)],
                vec![&f.r3],
            ),
            // Maria approves as Eve's and Evan's manager, and as a Finance Approvers member.
            (
                "assigned-to=me (manager)",
                manager(),
                vec![("assigned-to", "me")],
                vec![&f.r1, &f.r2, &f.r2],
            ),
            // Sam owns Engineering Access and is a Finance Approvers member:
            // both steps come after the manager's, which is not decided yet.
            (
                "assigned-to=me (a later step's owner)",
                source_admin(),
                vec![("assigned-to", "me")],
                vec![],
            ),
            (
                "assigned-to=me (role owner)",
                admin(),
                vec![("assigned-to", "me")],
                vec![&f.r3, &f.r5],
            ),
            (
                "assigned-to=<id> as admin",
                admin(),
                vec![("assigned-to", MANAGER)],
                vec![&f.r1, &f.r2, &f.r2],
            ),
            (
                "assigned-to and requested-for",
                admin(),
                vec![("assigned-to", MANAGER), ("requested-for", EMPLOYEE)],
                vec![&f.r1],
            ),
            (
                "no parameter: a user sees their own",
                employee(),
                vec![],
                vec![&f.r1, &f.r4, &f.r5],
            ),
            (
                "no parameter: a manager sees their own",
                manager(),
                vec![],
                vec![&f.r2, &f.r2, &f.r5],
            ),
            (
                "no parameter: an approver with nothing of their own",
                source_admin(),
                vec![],
                vec![],
            ),
            (
                "no parameter: admin sees the tenant",
                admin(),
                vec![],
                vec![&f.r1, &f.r2, &f.r2, &f.r3, &f.r4, &f.r5],
            ),
            (
                "no parameter: the other tenant's admin",
                globex_admin(),
                vec![],
                vec![&f.globex],
            ),
            (
                "another tenant's identity",
                globex_admin(),
                vec![("requested-for", EMPLOYEE)],
                vec![],
            ),
            (
                "another tenant's approver",
                globex_admin(),
                vec![("assigned-to", MANAGER)],
                vec![],
            ),
            (
                "an unknown identity",
                admin(),
                vec![("regarding-identity", "nobody")],
                vec![],
            ),
        ];
        for (rule, who, pairs, expected) in cases {
            let p = page(s, &who, &pairs).await;
            assert_eq!(request_ids(&p.items), sorted(&expected), "{name}: {rule}");
            assert_eq!(p.total, expected.len(), "{name}: {rule}");
            // The total as `count=true` answers it (from the counters where
            // the list has one).
            let counted: Vec<_> = pairs.iter().copied().chain([("count", "true")]).collect();
            let p = page(s, &who, &counted).await;
            assert_eq!(p.total, expected.len(), "{name}: {rule}, count=true");
        }
    }
}

#[tokio::test]
async fn only_org_admin_may_ask_about_another_identity() {
    for (name, store) in stores().await {
        populate(&store).await;
        for param in [
            "requested-for",
            "requested-by",
            "regarding-identity",
            "assigned-to",
        ] {
            let cause = forbidden(
                &format!("{name}: {param}"),
                list(&store, &employee(), &[(param, MANAGER)]).await,
            );
            assert_eq!(
                cause,
                format!(
                    "only ORG_ADMIN may list the access requests of other identities ({MANAGER})"
                ),
                "{name}: {param}"
            );
            // Combined with a parameter about oneself, still refused.
            let own = if param == "assigned-to" {
                "requested-for"
            } else {
                "assigned-to"
            };
            if param != "regarding-identity" || own == "assigned-to" {
                forbidden(
                    &format!("{name}: {param} + {own}=me"),
                    list(&store, &employee(), &[(own, "me"), (param, OUTSIDER)]).await,
                );
            }
            // Other authorities do not help.
            forbidden(
                &format!("{name}: {param} as SOURCE_ADMIN"),
                list(&store, &source_admin(), &[(param, EMPLOYEE)]).await,
            );
        }
        // A token without a user context must be ORG_ADMIN to list anything.
        let cause = forbidden(name, list(&store, &api_client(), &[]).await);
        assert!(cause.contains("must be ORG_ADMIN"), "{cause}");
        // ... and cannot say `me`.
        let c = bad_request(
            name,
            list(&store, &api_client(), &[("requested-for", "me")]).await,
        );
        assert!(
            c[0].contains("requested-for=me needs a token with a user context"),
            "{c:?}"
        );
        // An admin API client sees the tenant.
        let p = page(&store, &principal(ACME, None, &["ORG_ADMIN"]), &[]).await;
        assert_eq!(p.total, 6, "{name}");
    }
}

#[tokio::test]
async fn regarding_identity_excludes_requested_for_and_requested_by() {
    for (name, store) in stores().await {
        for other in ["requested-for", "requested-by"] {
            let c = bad_request(
                name,
                list(
                    &store,
                    &admin(),
                    &[("regarding-identity", EMPLOYEE), (other, MANAGER)],
                )
                .await,
            );
            assert_eq!(
                c,
                vec![format!(
                    "regarding-identity ({EMPLOYEE}) cannot be combined with {other} ({MANAGER}); \
                     regarding-identity already covers requests by and for that identity"
                )],
                "{name}"
            );
        }
        let c = bad_request(
            name,
            list(
                &store,
                &employee(),
                &[
                    ("regarding-identity", "me"),
                    ("requested-for", "me"),
                    ("requested-by", "me"),
                ],
            )
            .await,
        );
        assert_eq!(
            c.len(),
            2,
            "{name}: one cause per conflicting parameter: {c:?}"
        );
        // Not a 403 first: the query is malformed whoever asks.
        bad_request(
            name,
            list(
                &store,
                &employee(),
                &[("regarding-identity", MANAGER), ("requested-for", MANAGER)],
            )
            .await,
        );
    }
}

#[tokio::test]
async fn malformed_identity_parameters_are_400() {
    for (name, store) in stores().await {
        let c = bad_request(name, list(&store, &admin(), &[("requested-for", "")]).await);
        assert_eq!(
            c,
            vec!["query parameter requested-for is empty; give an identity id or me"]
        );
        let c = bad_request(
            name,
            list(
                &store,
                &admin(),
                &[("requested-by", EMPLOYEE), ("requested-by", MANAGER)],
            )
            .await,
        );
        assert_eq!(
            c,
            vec!["query parameter requested-by is given 2 times; give it at most once"]
        );
    }
}

// ---------------------------------------------------------------- count, limit, offset, request-state

#[tokio::test]
async fn count_limit_and_offset() {
    for (name, store) in stores().await {
        populate(&store).await;
        let s = &store;
        let all = all_acme(s).await;
        assert_eq!(all.len(), 6, "{name}");

        let q = status::parse_query(&params(&[])).unwrap();
        assert_eq!(
            (q.paging.limit, q.paging.offset, q.paging.count),
            (250, 0, false),
            "defaults"
        );
        let q = status::parse_query(&params(&[("count", "true")])).unwrap();
        assert!(q.paging.count);
        let q = status::parse_query(&params(&[("count", "false")])).unwrap();
        assert!(!q.paging.count);

        for (limit, offset, expect) in [
            ("2", "0", 0..2),
            ("2", "2", 2..4),
            ("4", "4", 4..6),
            ("250", "5", 5..6),
            ("0", "0", 0..0),
            ("3", "6", 6..6),
            ("3", "100", 6..6),
        ] {
            let p = page(
                s,
                &admin(),
                &[("limit", limit), ("offset", offset), ("count", "true")],
            )
            .await;
            assert_eq!(p.total, 6, "{name}: total ignores paging");
            let expected: Vec<String> = item_ids(&all[expect.clone()]);
            assert_eq!(
                item_ids(&p.items),
                expected,
                "{name}: limit {limit} offset {offset}"
            );
        }

        for (param, value, message) in [
            (
                "limit",
                "-1",
                "limit must be an integer between 0 and 250; got \"-1\"",
            ),
            (
                "limit",
                "251",
                "limit must be an integer between 0 and 250; got \"251\"",
            ),
            (
                "limit",
                "abc",
                "limit must be an integer between 0 and 250; got \"abc\"",
            ),
            (
                "limit",
                "1.5",
                "limit must be an integer between 0 and 250; got \"1.5\"",
            ),
            (
                "limit",
                "",
                "limit must be an integer between 0 and 250; got \"\"",
            ),
            (
                "limit",
                "99999999999999999999",
                "limit must be an integer between 0 and 250",
            ),
            (
                "offset",
                "-1",
                "offset must be an integer between 0 and 2147483647; got \"-1\"",
            ),
            (
                "offset",
                "x",
                "offset must be an integer between 0 and 2147483647; got \"x\"",
            ),
            (
                "offset",
                "2147483648",
                "offset must be an integer between 0 and 2147483647",
            ),
            ("count", "yes", "count must be true or false; got \"yes\""),
        ] {
            let c = bad_request(name, list(s, &admin(), &[(param, value)]).await);
            assert!(c[0].starts_with(message), "{name}: {param}={value}: {c:?}");
        }
        // Every bad parameter is its own cause.
        let c = bad_request(
            name,
            list(s, &admin(), &[("limit", "-1"), ("offset", "x")]).await,
        );
        assert_eq!(c.len(), 2, "{name}: {c:?}");
    }
}

#[tokio::test]
async fn request_state_executing_only() {
    for (name, store) in stores().await {
        let f = populate(&store).await;
        cancel(
            &shared::plan::Runner::new(&store),
            &admin(),
            &CancelAccessRequest {
                account_activity_id: f.r3.clone(),
                comment: "not needed".into(),
            },
            f.at(7),
        )
        .await
        .unwrap();
        let p = page(
            &store,
            &admin(),
            &[("request-state", "EXECUTING"), ("count", "true")],
        )
        .await;
        assert_eq!(
            request_ids(&p.items),
            sorted(&[&f.r1, &f.r2, &f.r2, &f.r5]),
            "{name}: completed (r4) and cancelled (r3) are left out"
        );
        assert!(p.items.iter().all(|i| i.state == RequestState::Executing));
        assert_eq!(p.total, 4);
        // Combined with an identity parameter.
        let p = page(&store, &employee(), &[("request-state", "EXECUTING")]).await;
        assert_eq!(request_ids(&p.items), sorted(&[&f.r1, &f.r5]), "{name}");

        for value in [
            "REQUEST_COMPLETED",
            "CANCELLED",
            "executing",
            "",
            "EXECUTING,CANCELLED",
        ] {
            let c = bad_request(
                name,
                list(&store, &admin(), &[("request-state", value)]).await,
            );
            assert_eq!(
                c,
                vec![format!(
                    "request-state must be EXECUTING (the only supported value); got {value:?}"
                )],
                "{name}"
            );
        }
    }
}

// ---------------------------------------------------------------- filters

#[tokio::test]
async fn filters_select_items() {
    for (name, store) in stores().await {
        let f = populate(&store).await;
        let s = &store;
        let all = all_acme(s).await;
        let r2_items: Vec<String> = all
            .iter()
            .filter(|i| i.access_request_id == f.r2)
            .map(|i| i.account_activity_item_id.clone())
            .collect();
        assert_eq!(r2_items.len(), 2);
        let created = |m: i64| shared::time::format(&f.at(m));
        let ids_where = |pred: &dyn Fn(&RequestedItemStatus) -> bool| -> Vec<String> {
            let mut v: Vec<String> = all
                .iter()
                .filter(|i| pred(i))
                .map(|i| i.account_activity_item_id.clone())
                .collect();
            v.sort();
            v
        };
        let prefix: String = f.r3.chars().take(6).collect();
        let r3 = f.r3.clone();
        let cases: Vec<(String, Vec<String>)> = vec![
            (format!("accessRequestId eq \"{}\"", f.r1), ids_where(&|i| i.access_request_id == f.r1)),
            (format!("accessRequestId eq \"{}\"", f.r1.to_uppercase()), ids_where(&|i| i.access_request_id == f.r1)),
            (format!("accessRequestId ne \"{}\"", f.r2), ids_where(&|i| i.access_request_id != f.r2)),
            (format!("accessRequestId gt \"{r3}\""), ids_where(&|i| i.access_request_id > r3)),
            (format!("accessRequestId ge \"{r3}\""), ids_where(&|i| i.access_request_id >= r3)),
            (format!("accessRequestId lt \"{r3}\""), ids_where(&|i| i.access_request_id < r3)),
            (format!("accessRequestId le \"{r3}\""), ids_where(&|i| i.access_request_id <= r3)),
            (
                format!("accessRequestId in (\"{}\",\"{}\")", f.r1, f.r2),
                ids_where(&|i| i.access_request_id == f.r1 || i.access_request_id == f.r2),
            ),
            (
                format!("accessRequestId in (\"{}\", \"{}\", \"unknown\")", f.r4, f.globex),
                ids_where(&|i| i.access_request_id == f.r4),
            ),
            (format!("accessRequestId sw \"{prefix}\""), ids_where(&|i| i.access_request_id.starts_with(&prefix))),
            (format!("accountActivityItemId eq \"{}\"", r2_items[0]), vec![r2_items[0].clone()]),
            (format!("accountActivityItemId ne \"{}\"", r2_items[0]), ids_where(&|i| i.account_activity_item_id != r2_items[0])),
            (format!("accountActivityItemId in (\"{}\",\"{}\")", r2_items[0], r2_items[1]), ids_where(&|i| i.access_request_id == f.r2)),
            (format!("accountActivityItemId gt \"{}\"", r2_items[0]), ids_where(&|i| i.account_activity_item_id > r2_items[0])),
            (format!("accountActivityItemId ge \"{}\"", r2_items[0]), ids_where(&|i| i.account_activity_item_id >= r2_items[0])),
            (format!("accountActivityItemId le \"{}\"", r2_items[0]), ids_where(&|i| i.account_activity_item_id <= r2_items[0])),
            (format!("accountActivityItemId sw \"{}\"", &r2_items[1][..8]), ids_where(&|i| i.account_activity_item_id.starts_with(&r2_items[1][..8]))),
            // Date-times unquoted, as the standard's examples write them.
            (format!("created gt {}", created(2)), ids_where(&|i| i.created > f.at(2))),
            (format!("created ge {}", created(2)), ids_where(&|i| i.created >= f.at(2))),
            (format!("created lt {}", created(2)), ids_where(&|i| i.created < f.at(2))),
            (format!("created le {}", created(2)), ids_where(&|i| i.created <= f.at(2))),
            (format!("created eq {}", created(3)), ids_where(&|i| i.access_request_id == f.r3)),
            (format!("created ne {}", created(3)), ids_where(&|i| i.access_request_id != f.r3)),
            // Other offsets denote the same instant.
            (
                format!("created eq {}", f.at(3).with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap()).to_rfc3339()),
                ids_where(&|i| i.access_request_id == f.r3),
            ),
            (
                format!("created gt {} and created lt {}", created(1), created(4)),
                ids_where(&|i| i.created > f.at(1) && i.created < f.at(4)),
            ),
            (
                format!("accessRequestId eq \"{}\" or accessRequestId eq \"{}\"", f.r1, f.r3),
                ids_where(&|i| i.access_request_id == f.r1 || i.access_request_id == f.r3),
            ),
            (
                format!("not accessRequestId eq \"{}\"", f.r2),
                ids_where(&|i| i.access_request_id != f.r2),
            ),
            (
                format!(
                    "(accessRequestId eq \"{}\" or accessRequestId eq \"{}\") and not accountActivityItemId eq \"{}\"",
                    f.r1, f.r2, r2_items[0]
                ),
                ids_where(&|i| {
                    (i.access_request_id == f.r1 || i.access_request_id == f.r2)
                        && i.account_activity_item_id != r2_items[0]
                }),
            ),
            (
                // not > and > or
                format!(
                    "not accessRequestId eq \"{}\" and created lt {} or accessRequestId eq \"{}\"",
                    f.r1, created(3), f.r5
                ),
                ids_where(&|i| {
                    (i.access_request_id != f.r1 && i.created < f.at(3)) || i.access_request_id == f.r5
                }),
            ),
            (format!("accessRequestId eq \"{}\"", f.globex), vec![]),
        ];
        for (expr, expected) in cases {
            let p = page(s, &admin(), &[("filters", &expr), ("count", "true")]).await;
            let mut got = item_ids(&p.items);
            got.sort();
            assert_eq!(got, expected, "{name}: {expr}");
            assert_eq!(p.total, expected.len(), "{name}: {expr}");
        }
        // Filters narrow an identity query, never widen it.
        let p = page(
            s,
            &employee(),
            &[(
                "filters",
                &format!("accessRequestId in (\"{}\",\"{}\")", f.r1, f.r2),
            )],
        )
        .await;
        assert_eq!(request_ids(&p.items), vec![f.r1.clone()], "{name}");
    }
}

#[tokio::test]
async fn bad_filters_are_400_with_the_parsers_cause() {
    let cases: [(&str, &str); 14] = [
        ("name eq \"x\"", "filters: field 'name' is not filterable; filterable fields are accessRequestId, accountActivityItemId, created"),
        ("created sw 2020-01-01T00:00:00Z", "filters: operator 'sw' is not supported for field 'created'"),
        ("created in (\"2020-01-01T00:00:00Z\")", "filters: operator 'in' is not supported for field 'created'"),
        ("accountActivityItemId lt \"a\"", "filters: operator 'lt' is not supported for field 'accountActivityItemId'"),
        ("accessRequestId co \"a\"", "filters: operator 'co' is not supported for field 'accessRequestId'"),
        ("accessRequestId EQ \"a\"", "(operators and keywords are lowercase)"),
        ("accessRequestId eq \"a\" and", "filters: 'and' at position 23 is missing its right-hand operand"),
        ("(accessRequestId eq \"a\"", "the '(' at position 0 is not closed"),
        ("accessRequestId eq \"a\")", "filters: unbalanced ')' at position 22"),
        ("accessRequestId eq a", "filters: value 'a' at position 19 for field 'accessRequestId' must be a double-quoted string"),
        ("created gt yesterday", "filters: 'yesterday' at position 11 is not a valid RFC 3339 date-time for field 'created'"),
        ("accessRequestId eq \"a\\q\"", "filters: invalid escape '\\q' at position 21"),
        ("accessRequestId in ()", "filters: the 'in' list for field 'accessRequestId' at position 19 is empty"),
        ("accessRequestId eq \"unterminated", "filters: unterminated string starting at position 19"),
    ];
    for (name, store) in stores().await {
        for (expr, fragment) in cases {
            let c = bad_request(name, list(&store, &admin(), &[("filters", expr)]).await);
            let parser = shared::domain::collection::filter::parse_filters(expr, &status::FILTERS)
                .unwrap_err()
                .message;
            assert_eq!(c, vec![parser.clone()], "{name}: {expr}");
            assert!(parser.contains(fragment), "{name}: {expr}: {parser}");
        }
        let c = bad_request(name, list(&store, &admin(), &[("filters", "")]).await);
        assert_eq!(c, vec!["filters: empty expression"]);
    }
}

// ---------------------------------------------------------------- sorters and paging

/// Records an approval decision on the first step of `request`'s first item.
async fn decide_first_step(store: &Store, request: &str, at: DateTime<Utc>) {
    let mut r: AccessRequestRecord = store
        .get_requests(ACME, &[request.to_string()])
        .await
        .unwrap()
        .remove(0);
    let step = &mut r.items[0].approvals[0];
    step.status = WorkItemState::Approved;
    step.reviewed_by = Some(NamedRef {
        id: MANAGER.into(),
        name: "Maria Manager".into(),
    });
    step.comment = Some("fine".into());
    step.modified = Some(at);
    r.modified = at;
    r.version += 1;
    store.update_request(ACME, &r, None).await.unwrap();
}

#[tokio::test]
async fn sorters_order_items_and_break_ties_on_account_activity_item_id() {
    for (name, store) in stores().await {
        let f = populate(&store).await;
        // r1 changes last, so `modified` differs from `created`.
        decide_first_step(&store, &f.r1, f.at(30)).await;
        let s = &store;
        let all = all_acme(s).await;
        let lower = |i: &RequestedItemStatus| i.name.clone().unwrap_or_default().to_lowercase();
        let cases: Vec<(&str, Vec<String>)> = vec![
            (
                "",
                expected_order(all.clone(), |a, b| b.created.cmp(&a.created)),
            ),
            (
                "-created",
                expected_order(all.clone(), |a, b| b.created.cmp(&a.created)),
            ),
            (
                "created",
                expected_order(all.clone(), |a, b| a.created.cmp(&b.created)),
            ),
            (
                "modified",
                expected_order(all.clone(), |a, b| a.modified.cmp(&b.modified)),
            ),
            (
                "-modified",
                expected_order(all.clone(), |a, b| b.modified.cmp(&a.modified)),
            ),
            (
                "accountActivityItemId",
                expected_order(all.clone(), |_, _| std::cmp::Ordering::Equal),
            ),
            (
                "-accountActivityItemId",
                expected_order(all.clone(), |a, b| {
                    b.account_activity_item_id.cmp(&a.account_activity_item_id)
                }),
            ),
            (
                "name",
                expected_order(all.clone(), |a, b| lower(a).cmp(&lower(b))),
            ),
            (
                "-name",
                expected_order(all.clone(), |a, b| lower(b).cmp(&lower(a))),
            ),
            (
                "name,-created",
                expected_order(all.clone(), |a, b| {
                    lower(a).cmp(&lower(b)).then(b.created.cmp(&a.created))
                }),
            ),
            (
                " -modified , name ",
                expected_order(all.clone(), |a, b| {
                    b.modified.cmp(&a.modified).then(lower(a).cmp(&lower(b)))
                }),
            ),
        ];
        for (sorters, expected) in cases {
            let p = page(s, &admin(), &[("sorters", sorters)]).await;
            assert_eq!(item_ids(&p.items), expected, "{name}: sorters={sorters:?}");
        }
        // The default really is newest first: Greta's is in another tenant, r5 is newest here.
        assert_eq!(all[0].access_request_id, f.r5, "{name}");
        assert_eq!(all.last().unwrap().access_request_id, f.r1, "{name}");
        // r2's two items tie on created: the tie is broken on accountActivityItemId.
        let r2: Vec<&RequestedItemStatus> =
            all.iter().filter(|i| i.access_request_id == f.r2).collect();
        assert!(
            r2[0].account_activity_item_id < r2[1].account_activity_item_id,
            "{name}"
        );
        // r1 is the most recently modified.
        let p = page(s, &admin(), &[("sorters", "-modified")]).await;
        assert_eq!(p.items[0].access_request_id, f.r1, "{name}");

        for (sorters, message) in [
            ("foo", "sorters: field 'foo' at position 0 is not sortable; sortable fields are created, modified, accountActivityItemId, name"),
            ("created,requester", "sorters: field 'requester' at position 8 is not sortable"),
            ("Created", "sorters: field 'Created' at position 0 is not sortable"),
            ("created,,name", "sorters: empty field name at position 8"),
            ("-", "sorters: '-' at position 0 must be followed by a field name"),
            ("name,-name", "sorters: field 'name' at position 5 is listed more than once"),
        ] {
            let c = bad_request(name, list(s, &admin(), &[("sorters", sorters)]).await);
            assert_eq!(c.len(), 1);
            assert!(c[0].starts_with(message), "{name}: {sorters}: {c:?}");
        }
    }
}

#[tokio::test]
async fn paging_is_consistent_over_many_items() {
    for (name, store) in stores_with(&large_seed(25)).await {
        let s = &store;
        // Two submissions of 10 identities × 25 access profiles without
        // approval: 500 items in 20 requests, 250 sharing each `created`.
        let ten: Vec<String> = (0..10).map(bulk_identity).collect();
        let items: Vec<Value> = (0..25)
            .map(|i| json!({"type": "ACCESS_PROFILE", "id": bulk_profile(i)}))
            .collect();
        let base = (Utc::now() - Duration::hours(1)).trunc_subsecs(0);
        for m in 0..2 {
            let body: AccessRequest =
                serde_json::from_value(json!({"requestedFor": ten, "requestedItems": items}))
                    .unwrap();
            let r = submit(
                &shared::plan::Runner::new(s),
                &admin(),
                body,
                base + Duration::minutes(m),
            )
            .await
            .unwrap();
            assert_eq!(r.new_requests.len(), 10, "{name}");
        }

        // The default limit is 250.
        let p = page(s, &admin(), &[("count", "true")]).await;
        assert_eq!(p.items.len(), 250, "{name}");
        assert_eq!(p.total, 500, "{name}");
        // A manager asking about one report reads that report's requests only.
        let p = page(s, &manager(), &[]).await;
        assert_eq!(p.total, 0, "{name}");
        let p = page(s, &admin(), &[("requested-for", &bulk_identity(3))]).await;
        assert_eq!(p.total, 50, "{name}");

        for sorters in [
            "-created",
            "name",
            "accountActivityItemId",
            "-modified,name",
            "created",
        ] {
            let first = page(s, &admin(), &[("sorters", sorters), ("limit", "250")]).await;
            let second = page(s, &admin(), &[("sorters", sorters), ("offset", "250")]).await;
            let full: Vec<String> = item_ids(&first.items)
                .into_iter()
                .chain(item_ids(&second.items))
                .collect();
            assert_eq!(full.len(), 500, "{name}: {sorters}");
            let distinct: BTreeSet<&String> = full.iter().collect();
            assert_eq!(
                distinct.len(),
                500,
                "{name}: {sorters}: repeats across the two pages"
            );

            for k in [37usize, 100] {
                let mut paged = Vec::new();
                let mut offset = 0;
                loop {
                    let (limit, off) = (k.to_string(), offset.to_string());
                    let p = page(
                        s,
                        &admin(),
                        &[("sorters", sorters), ("limit", &limit), ("offset", &off)],
                    )
                    .await;
                    assert!(p.items.len() <= k);
                    if p.items.is_empty() {
                        break;
                    }
                    offset += p.items.len();
                    paged.extend(item_ids(&p.items));
                }
                assert_eq!(
                    paged, full,
                    "{name}: sorters={sorters} limit={k}: gaps or repeats"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- what an item shows

#[tokio::test]
async fn items_show_names_approvals_phases_and_metadata() {
    for (name, store) in stores().await {
        let f = populate(&store).await;
        let s = &store;
        let all = all_acme(s).await;
        let one = |request: &str, item: &str| -> RequestedItemStatus {
            all.iter()
                .find(|i| i.access_request_id == request && i.name.as_deref() == Some(item))
                .unwrap_or_else(|| panic!("{name}: no {item} in {request}"))
                .clone()
        };

        // Names and descriptions from the directory and catalog.
        let r1 = one(&f.r1, "Engineering Access");
        // id, name and type describe the requested object.
        assert_eq!(r1.id, AP_ENGINEERING);
        assert_ne!(r1.account_activity_item_id, AP_ENGINEERING);
        assert_eq!(r1.requester.id, EMPLOYEE);
        assert_eq!(r1.requester.name, "Eve Employee");
        assert_eq!(r1.requested_for.name, "Eve Employee");
        assert_eq!(
            r1.description.as_deref(),
            Some("Tools every engineer needs.")
        );
        assert_eq!(r1.item_type, Some(shared::models::ItemType::AccessProfile));
        assert_eq!(r1.request_type, Some(AccessRequestType::GrantAccess));
        assert_eq!(r1.created, f.at(1));
        assert_eq!(r1.modified, Some(f.at(1)));
        assert_eq!(r1.state, RequestState::Executing);
        assert!(r1.cancelable, "{name}: no decision yet");
        assert_eq!(
            r1.requester_comment
                .as_ref()
                .and_then(|c| c.comment.as_deref()),
            Some("need it")
        );
        // clientMetadata as stored: request-level merged with item-level.
        let metadata: Vec<(String, String)> =
            r1.client_metadata.clone().unwrap().into_iter().collect();
        assert_eq!(
            metadata,
            vec![
                ("app".into(), "portal".into()),
                ("ticket".into(), "T-2".into())
            ],
            "{name}"
        );
        // Steps are taken in order: the first is shown, PENDING with its
        // owner; the owner's step comes once the manager has approved.
        let steps: Vec<(
            ApprovalScheme,
            OwnerType,
            String,
            Option<String>,
            WorkItemState,
        )> = r1
            .approval_details
            .iter()
            .map(|a| {
                (
                    a.scheme,
                    a.original_owner.ref_type,
                    a.original_owner.name.clone(),
                    a.current_owner.as_ref().map(|o| o.name.clone()),
                    a.status,
                )
            })
            .collect();
        assert_eq!(
            steps,
            vec![(
                ApprovalScheme::Manager,
                OwnerType::Identity,
                "Maria Manager".into(),
                Some("Maria Manager".into()),
                WorkItemState::Pending
            )],
            "{name}"
        );
        assert_eq!(r1.approval_details[0].original_owner.id, MANAGER);
        assert_eq!(
            r1.approval_ids.clone().unwrap(),
            r1.approval_details
                .iter()
                .map(|a| a.approval_id.clone().unwrap())
                .collect::<Vec<_>>()
        );
        let phases: Vec<(String, PhaseState, Option<PhaseResult>, Option<String>)> = r1
            .access_request_phases
            .clone()
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.state, p.result, p.phase_reference))
            .collect();
        assert_eq!(
            phases,
            vec![(
                "APPROVAL_PHASE".into(),
                PhaseState::Executing,
                None,
                Some("approvalDetails".into())
            )],
            "{name}"
        );

        // A governance group holds its step: no current owner yet. It is
        // reached once Evan's manager approved the first.
        let finance = one(&f.r2, "Finance Analyst");
        assert_eq!(finance.requester.name, "Maria Manager");
        assert_eq!(finance.requested_for.name, "Evan Engineer");
        assert_eq!(
            finance.description.as_deref(),
            Some("Read access to the finance systems.")
        );
        assert_eq!(finance.approval_details.len(), 1, "{name}");
        let first = finance.approval_details[0].approval_id.clone().unwrap();
        shared::domain::approvals::decide::approve(
            &shared::plan::Runner::new(s),
            &manager(),
            &first,
            &shared::models::CommentBody::default(),
            Utc::now(),
        )
        .await
        .unwrap();
        let after = all_acme(s).await;
        let finance = after
            .iter()
            .find(|i| i.access_request_id == f.r2 && i.name.as_deref() == Some("Finance Analyst"))
            .unwrap()
            .clone();
        assert_eq!(finance.approval_details.len(), 2, "{name}");
        assert_eq!(finance.approval_details[0].status, WorkItemState::Approved);
        assert!(!finance.cancelable, "{name}: a decision was made");
        let group = &finance.approval_details[1];
        assert_eq!(group.scheme, ApprovalScheme::GovernanceGroup);
        assert_eq!(group.status, WorkItemState::Pending);
        assert_eq!(group.original_owner.ref_type, OwnerType::GovernanceGroup);
        assert_eq!(group.original_owner.id, FINANCE_GROUP);
        assert_eq!(group.original_owner.name, "Finance Approvers");
        assert!(group.current_owner.is_none(), "{name}");
        let shown = serde_json::to_value(&finance).unwrap();
        assert_eq!(shown["approvalDetails"][1]["currentOwner"], Value::Null);
        assert_eq!(
            shown["approvalDetails"][1]["originalOwner"]["type"],
            "GOVERNANCE_GROUP"
        );
        // The manager step names Evan's manager.
        assert_eq!(finance.approval_details[0].original_owner.id, MANAGER);
        let jira = one(&f.r2, "Jira User");
        assert_eq!(jira.item_type, Some(shared::models::ItemType::Entitlement));
        assert_eq!(jira.approval_details.len(), 1);
        assert!(jira.client_metadata.is_none());

        // ROLE_OWNER step, with removeDate shown on the item.
        let auditor = one(&f.r5, "Auditor");
        assert_eq!(
            auditor.approval_details[0].scheme,
            ApprovalScheme::RoleOwner
        );
        assert_eq!(auditor.approval_details[0].original_owner.name, "Ada Admin");
        assert_eq!(auditor.remove_date, shared::time::parse(REMOVE_DATE));
        assert_eq!(
            serde_json::to_value(&auditor).unwrap()["removeDate"],
            "2999-06-30T00:00:00.000Z"
        );

        // Completed at once: both phases done, nothing to cancel.
        let wiki = one(&f.r4, "Wiki Reader");
        assert_eq!(wiki.state, RequestState::RequestCompleted);
        assert!(!wiki.cancelable);
        assert!(wiki.approval_details.is_empty());
        let phases: Vec<(String, PhaseState, Option<PhaseResult>)> = wiki
            .access_request_phases
            .clone()
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.state, p.result))
            .collect();
        assert_eq!(
            phases,
            vec![
                (
                    "APPROVAL_PHASE".into(),
                    PhaseState::Completed,
                    Some(PhaseResult::Successful)
                ),
                (
                    "PROVISIONING_PHASE".into(),
                    PhaseState::Completed,
                    Some(PhaseResult::Successful)
                ),
            ],
            "{name}"
        );

        // Once an approval decision is made, the request is no longer cancelable.
        decide_first_step(s, &f.r1, f.at(20)).await;
        let r1 = page(
            s,
            &admin(),
            &[("filters", &format!("accessRequestId eq \"{}\"", f.r1))],
        )
        .await
        .items
        .remove(0);
        assert!(!r1.cancelable, "{name}");
        assert_eq!(r1.state, RequestState::Executing);
        assert_eq!(r1.approval_details[0].status, WorkItemState::Approved);
        assert_eq!(
            r1.approval_details[0]
                .reviewed_by
                .as_ref()
                .map(|r| r.id.as_str()),
            Some(MANAGER)
        );
        assert_eq!(r1.approval_details[0].comment.as_deref(), Some("fine"));
        assert_eq!(r1.modified, Some(f.at(20)));

        // A cancelled request shows who cancelled it.
        cancel(
            &shared::plan::Runner::new(s),
            &manager(),
            &CancelAccessRequest {
                account_activity_id: f.r5.clone(),
                comment: "wrong role".into(),
            },
            f.at(21),
        )
        .await
        .unwrap();
        let r5 = page(
            s,
            &admin(),
            &[("filters", &format!("accessRequestId eq \"{}\"", f.r5))],
        )
        .await
        .items
        .remove(0);
        assert_eq!(r5.state, RequestState::Cancelled);
        assert!(!r5.cancelable);
        let details = r5.cancelled_request_details.unwrap();
        assert_eq!(details.comment, "wrong role");
        assert_eq!(details.owner.id, MANAGER);
    }
}

#[tokio::test]
async fn created_as_shown_is_the_created_that_filters_compare() {
    for (name, store) in stores().await {
        // A clock with sub-millisecond digits: what is shown is what is kept.
        let at = Utc::now() - Duration::minutes(5) + Duration::nanoseconds(123_456);
        let body: AccessRequest = serde_json::from_value(
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR}]}),
        )
        .unwrap();
        let id = submit(&shared::plan::Runner::new(&store), &employee(), body, at)
            .await
            .unwrap()
            .new_requests[0]
            .access_request_ids[0]
            .clone();
        let item = page(&store, &employee(), &[]).await.items.remove(0);
        let shown = serde_json::to_value(&item).unwrap()["created"]
            .as_str()
            .unwrap()
            .to_string();
        for expr in [
            format!("created eq {shown}"),
            format!("created le {shown}"),
            format!("created ge {shown}"),
        ] {
            let p = page(&store, &employee(), &[("filters", &expr)]).await;
            assert_eq!(request_ids(&p.items), vec![id.clone()], "{name}: {expr}");
        }
        let p = page(
            &store,
            &employee(),
            &[("filters", &format!("created gt {shown}"))],
        )
        .await;
        assert!(p.items.is_empty(), "{name}");
    }
}

// ---------------------------------------------------------------- data access (SPEC §9)

/// Records which request indexes status reads.
#[derive(Default)]
struct Recording {
    reads: Mutex<Vec<RequestIndex>>,
}

impl Recording {
    /// The indexes read, each once (a tenant's shards are one index).
    fn take(&self) -> Vec<RequestIndex> {
        let mut v = std::mem::take(&mut *self.reads.lock().unwrap());
        v.sort_by_key(|i| format!("{i:?}"));
        v.dedup();
        v
    }
}

#[async_trait]
impl Hooks for Recording {
    async fn before(&self, call: &Call<'_>) -> Result<(), StoreError> {
        if let Call::Query(query) = call {
            self.reads.lock().unwrap().push(request_index(query));
        }
        Ok(())
    }
}

/// The request index a backend query reads, from its partition key.
fn request_index(query: &Query) -> RequestIndex {
    let after = |marker: &str| {
        query
            .partition
            .split_once(marker)
            .map(|(_, id)| id.to_string())
    };
    if let Some(id) = after("#REQUESTER#") {
        RequestIndex::Requester(id)
    } else if let Some(id) = after("#FOR#") {
        RequestIndex::RequestedFor(id)
    } else if let Some(id) = after("#ASSIGNEE#") {
        RequestIndex::Assignee(id)
    } else {
        assert!(query.partition.contains("#REQUESTS#"), "{query:?}");
        RequestIndex::Tenant
    }
}

#[tokio::test]
async fn status_reads_the_narrowest_index_and_the_tenant_only_for_admins() {
    use RequestIndex::*;
    for (name, inner) in stores().await {
        let f = populate(&inner).await;
        let by_ids = format!(
            "accessRequestId in (\"{}\", \"{}\")",
            f.r1,
            f.r2.to_uppercase()
        );
        let by_ids_and = format!(
            "created gt 2000-01-01T00:00:00Z and (accessRequestId eq \"{}\" or accessRequestId eq \"{}\")",
            f.r1, f.r3
        );
        let by_prefix = format!("accessRequestId sw \"{}\"", &f.r1[..4]);
        let by_ids_or = format!(
            "accessRequestId eq \"{}\" or created gt 2000-01-01T00:00:00Z",
            f.r1
        );
        let store = Hooked::new(&inner, Recording::default());
        let cases: Vec<Row<Vec<RequestIndex>>> = vec![
            (
                "requested-for",
                admin(),
                vec![("requested-for", EMPLOYEE)],
                vec![RequestedFor(EMPLOYEE.into())],
            ),
            (
                "requested-by",
                admin(),
                vec![("requested-by", EMPLOYEE)],
                vec![Requester(EMPLOYEE.into())],
            ),
            (
                "assigned-to",
                manager(),
                vec![("assigned-to", "me")],
                vec![Assignee(MANAGER.into())],
            ),
            (
                "regarding-identity",
                admin(),
                vec![("regarding-identity", ENGINEER)],
                vec![Requester(ENGINEER.into()), RequestedFor(ENGINEER.into())],
            ),
            (
                "a user without parameters",
                employee(),
                vec![],
                vec![Requester(EMPLOYEE.into()), RequestedFor(EMPLOYEE.into())],
            ),
            (
                "a user with filters",
                employee(),
                vec![("filters", "created gt 2000-01-01T00:00:00Z")],
                vec![Requester(EMPLOYEE.into()), RequestedFor(EMPLOYEE.into())],
            ),
            ("admin without parameters", admin(), vec![], vec![Tenant]),
            // Requests named by id are read by key, not from the tenant partition.
            (
                "admin naming ids",
                admin(),
                vec![("filters", &by_ids)],
                vec![],
            ),
            (
                "admin naming ids among other conditions",
                admin(),
                vec![("filters", &by_ids_and)],
                vec![],
            ),
            (
                "admin with a filter that names no ids",
                admin(),
                vec![("filters", &by_prefix)],
                vec![Tenant],
            ),
            (
                "admin with ids or something else",
                admin(),
                vec![("filters", &by_ids_or)],
                vec![Tenant],
            ),
        ];
        let p = page(&store, &admin(), &[("filters", &by_ids)]).await;
        assert_eq!(
            request_ids(&p.items),
            sorted(&[&f.r1, &f.r2, &f.r2]),
            "{name}"
        );
        let p = page(&store, &admin(), &[("filters", &by_ids_and)]).await;
        assert_eq!(request_ids(&p.items), sorted(&[&f.r1, &f.r3]), "{name}");
        let p = page(&store, &globex_admin(), &[("filters", &by_ids)]).await;
        assert!(p.items.is_empty(), "{name}: another tenant's ids");
        store.hooks.take();
        for (rule, who, pairs, expected) in cases {
            page(&store, &who, &pairs).await;
            let mut expected = expected;
            expected.sort_by_key(|i| format!("{i:?}"));
            assert_eq!(store.hooks.take(), expected, "{name}: {rule}");
        }
        // Refused queries read nothing.
        let _ = list(&store, &employee(), &[("requested-for", MANAGER)]).await;
        let _ = list(&store, &employee(), &[("limit", "-1")]).await;
        assert!(store.hooks.take().is_empty(), "{name}");
    }
}
