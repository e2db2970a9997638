//! The seed format: a tenant's directory (identities, managers, governance
//! groups), catalog (access profiles, roles, entitlements with owners, the
//! requestable flag and approval schemes), non-employee sources (account
//! managers, ordered approvers) with existing requests on them, optional
//! pre-existing access requests, and OAuth clients for local use.
//! `resolve` turns it into store records, copying names and group members
//! where a request will need them so that each operation reads once.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::models::{ApprovalScheme, ApprovalStatus, ItemType, OwnerType};
use crate::records::{
    request_status, AccessRequestRecord, ApprovalStep, Approver, CatalogItemRecord, IdentityRecord,
    NamedRef, NonEmployeeApprovalRecord, NonEmployeeRequestRecord, NonEmployeeSourceRecord,
};
use crate::store::{Store, StoreError, TenantRecords, MAX_TRANSACTION_ITEMS};

/// A seed file: one or more tenants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedFile {
    pub tenants: Vec<SeedTenant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTenant {
    pub tenant_id: String,
    /// The org name, carried into local tokens (`org` claim).
    pub name: String,
    #[serde(default)]
    pub identities: Vec<SeedIdentity>,
    #[serde(default)]
    pub governance_groups: Vec<SeedGroup>,
    #[serde(default)]
    pub catalog: Vec<SeedCatalogItem>,
    #[serde(default)]
    pub non_employee_sources: Vec<SeedNonEmployeeSource>,
    /// Requests on the non-employee sources.
    #[serde(default)]
    pub non_employee_requests: Vec<SeedNonEmployeeRequest>,
    /// Access requests that already exist, in the stored record format.
    #[serde(default)]
    pub access_requests: Vec<AccessRequestRecord>,
    #[serde(default)]
    pub oauth_clients: Vec<OAuthClient>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedIdentity {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub manager_id: Option<String>,
    /// Informational: what this identity's tokens usually carry.
    #[serde(default)]
    pub authorities: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedGroup {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub member_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedApprovalScheme {
    pub scheme: ApprovalScheme,
    /// The approving identity or group; defaults by scheme (see `resolve`).
    #[serde(default)]
    pub approver_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedCatalogItem {
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub requestable: bool,
    pub owner_id: String,
    #[serde(default)]
    pub source_owner_id: Option<String>,
    #[serde(default)]
    pub app_owner_id: Option<String>,
    #[serde(default)]
    pub approval_schemes: Vec<SeedApprovalScheme>,
}

/// A non-employee source: its account managers may sponsor requests on it,
/// which its approvers decide in the order listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedNonEmployeeSource {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub account_manager_ids: Vec<String>,
    /// In approval order.
    #[serde(default)]
    pub approvers: Vec<SeedApprover>,
}

/// An approver of a non-employee source: an identity or a governance group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedApprover {
    #[serde(rename = "type")]
    pub approver_type: OwnerType,
    pub id: String,
}

/// A non-employee request already made on a source: the fields of its
/// create body, and one approval item per approver of the source, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedNonEmployeeRequest {
    pub id: String,
    pub source_id: String,
    pub requester_id: String,
    pub account_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    /// An identity of the tenant.
    pub manager: String,
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    pub start_date: DateTime<FixedOffset>,
    pub end_date: DateTime<FixedOffset>,
    pub created: DateTime<Utc>,
    pub approval_items: Vec<SeedApprovalItem>,
}

/// The state of a request's approval item; its approver and order are the
/// source's approver at the same position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedApprovalItem {
    pub id: String,
    pub approval_status: ApprovalStatus,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub modified: Option<DateTime<Utc>>,
    /// Who decided it, when not its approver (or a group's).
    #[serde(default)]
    pub reviewer_id: Option<String>,
}

/// A client that may obtain tokens from the local `/oauth/token` endpoint.
/// With an `identityId` it acts like a personal access token (a user
/// context); without one it is an API-only client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub identity_id: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub authorities: Vec<String>,
}

/// A seed that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("seed is not valid JSON of the seed format: {0}")]
    Format(String),
    #[error("seed tenant {tenant}: {problem}")]
    Reference { tenant: String, problem: String },
    #[error("loading the seed: {0}")]
    Store(#[from] StoreError),
}

impl SeedFile {
    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| SeedError::Format(format!("{} at {}", e.inner(), e.path())))
    }

    /// The tenant an OAuth client belongs to, with the client.
    pub fn oauth_client(&self, client_id: &str) -> Option<(&SeedTenant, &OAuthClient)> {
        self.tenants.iter().find_map(|t| {
            t.oauth_clients
                .iter()
                .find(|c| c.client_id == client_id)
                .map(|c| (t, c))
        })
    }

    /// Writes every tenant into the store.
    pub async fn load_into(&self, store: &Store) -> Result<(), SeedError> {
        for tenant in &self.tenants {
            let records = tenant.resolve()?;
            store.load_tenant(&tenant.tenant_id, records).await?;
        }
        Ok(())
    }

    /// [`SeedFile::load_into`] for a seed read only to be loaded: its
    /// access requests (a seed's bulk) move into the store instead of
    /// being copied, and what it keeps is what a server needs of it after
    /// (tenants, directory, OAuth clients).
    pub async fn load_moving_requests(&mut self, store: &Store) -> Result<(), SeedError> {
        for tenant in &mut self.tenants {
            let requests = std::mem::take(&mut tenant.access_requests);
            let mut records = tenant.resolve()?;
            records.access_requests = requests;
            store.load_tenant(&tenant.tenant_id, records).await?;
        }
        Ok(())
    }
}

impl SeedTenant {
    /// The seed's ids, names and descriptions within the bounds the API
    /// holds callers to (`crate::limits`): an id of another shape could never
    /// be named in a request, and names and descriptions are copied into
    /// every request that refers to them. Every problem, one per line.
    fn check_bounds(&self) -> Vec<String> {
        use crate::limits::{check_id, check_text, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
        let mut problems = Vec::new();
        let mut id = |what: String, value: &str| {
            if let Err(p) = check_id(&what, value) {
                problems.push(p);
            }
        };
        id("tenantId".into(), &self.tenant_id);
        for i in &self.identities {
            id("identity id".into(), &i.id);
        }
        for g in &self.governance_groups {
            id("governance group id".into(), &g.id);
        }
        for c in &self.catalog {
            id("catalog item id".into(), &c.id);
        }
        for s in &self.non_employee_sources {
            id("non-employee source id".into(), &s.id);
        }
        for r in &self.non_employee_requests {
            id("non-employee request id".into(), &r.id);
            for a in &r.approval_items {
                id(format!("approval item id of {}", r.id), &a.id);
            }
        }
        for r in &self.access_requests {
            id("access request id".into(), &r.id);
            for a in r.items.iter().flat_map(|i| &i.approvals) {
                id(format!("approval id of {}", r.id), &a.approval_id);
            }
        }
        for c in &self.oauth_clients {
            id("OAuth client id".into(), &c.client_id);
        }
        let names = self
            .identities
            .iter()
            .map(|i| (&i.id, &i.name))
            .chain(self.governance_groups.iter().map(|g| (&g.id, &g.name)))
            .chain(self.catalog.iter().map(|c| (&c.id, &c.name)))
            .chain(self.non_employee_sources.iter().map(|s| (&s.id, &s.name)));
        for (of, name) in names {
            if let Err(p) = check_text(&format!("the name of {of}"), name, MAX_NAME_CHARS) {
                problems.push(p);
            }
        }
        let descriptions = self.catalog.iter().map(|c| (&c.id, &c.description)).chain(
            self.non_employee_sources
                .iter()
                .map(|s| (&s.id, &s.description)),
        );
        for (of, description) in descriptions {
            if let Some(d) = description {
                if let Err(p) = check_text(
                    &format!("the description of {of}"),
                    d,
                    MAX_DESCRIPTION_CHARS,
                ) {
                    problems.push(p);
                }
            }
        }
        problems
    }

    /// Resolves references into records, failing on any dangling id.
    pub fn resolve(&self) -> Result<TenantRecords, SeedError> {
        let problem = |p: String| SeedError::Reference {
            tenant: self.tenant_id.clone(),
            problem: p,
        };
        let out_of_bounds = self.check_bounds();
        if !out_of_bounds.is_empty() {
            return Err(problem(out_of_bounds.join("; ")));
        }
        let names: HashMap<&str, &str> = self
            .identities
            .iter()
            .map(|i| (i.id.as_str(), i.name.as_str()))
            .collect();
        let groups: HashMap<&str, &SeedGroup> = self
            .governance_groups
            .iter()
            .map(|g| (g.id.as_str(), g))
            .collect();
        let identity_ref = |id: &str, what: &str| -> Result<NamedRef, SeedError> {
            names
                .get(id)
                .map(|name| NamedRef {
                    id: id.to_string(),
                    name: name.to_string(),
                })
                .ok_or_else(|| problem(format!("{what} {id} is not an identity of the tenant")))
        };
        let approver =
            |owner_type: OwnerType, id: &str, what: &str| -> Result<Approver, SeedError> {
                match owner_type {
                    OwnerType::Identity => {
                        let r = identity_ref(id, what)?;
                        Ok(Approver {
                            owner_type,
                            id: r.id,
                            name: r.name,
                            member_ids: Vec::new(),
                        })
                    }
                    OwnerType::GovernanceGroup => {
                        let g = groups.get(id).ok_or_else(|| {
                            problem(format!(
                                "{what} {id} is not a governance group of the tenant"
                            ))
                        })?;
                        Ok(Approver {
                            owner_type,
                            id: g.id.clone(),
                            name: g.name.clone(),
                            member_ids: g.member_ids.clone(),
                        })
                    }
                }
            };

        for g in &self.governance_groups {
            for m in &g.member_ids {
                identity_ref(m, &format!("member of group {}", g.id))?;
            }
        }

        let mut identities = Vec::with_capacity(self.identities.len());
        for i in &self.identities {
            let manager = match &i.manager_id {
                Some(m) => Some(identity_ref(m, &format!("manager of {}", i.id))?),
                None => None,
            };
            identities.push(IdentityRecord {
                id: i.id.clone(),
                name: i.name.clone(),
                manager_id: manager.as_ref().map(|m| m.id.clone()),
                manager_name: manager.map(|m| m.name),
            });
        }

        let mut catalog = Vec::with_capacity(self.catalog.len());
        for c in &self.catalog {
            identity_ref(&c.owner_id, &format!("owner of {}", c.id))?;
            let mut steps = Vec::with_capacity(c.approval_schemes.len());
            for s in &c.approval_schemes {
                let what = format!("approver of {} ({:?})", c.id, s.scheme);
                let step_approver = match (s.scheme, &s.approver_id) {
                    // The manager depends on who the access is for.
                    (ApprovalScheme::Manager, _) => None,
                    (ApprovalScheme::GovernanceGroup, Some(id)) => {
                        Some(approver(OwnerType::GovernanceGroup, id, &what)?)
                    }
                    (ApprovalScheme::GovernanceGroup, None) => {
                        return Err(problem(format!(
                            "{what}: a GOVERNANCE_GROUP step needs approverId"
                        )))
                    }
                    (_, Some(id)) => Some(approver(OwnerType::Identity, id, &what)?),
                    (ApprovalScheme::SourceOwner, None) => Some(approver(
                        OwnerType::Identity,
                        c.source_owner_id.as_deref().unwrap_or(&c.owner_id),
                        &what,
                    )?),
                    (ApprovalScheme::AppOwner, None) => Some(approver(
                        OwnerType::Identity,
                        c.app_owner_id.as_deref().unwrap_or(&c.owner_id),
                        &what,
                    )?),
                    (_, None) => Some(approver(OwnerType::Identity, &c.owner_id, &what)?),
                };
                steps.push(ApprovalStep {
                    scheme: s.scheme,
                    approver: step_approver,
                });
            }
            catalog.push(CatalogItemRecord {
                item_type: c.item_type,
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                requestable: c.requestable,
                approval_steps: steps,
            });
        }

        let mut non_employee_sources = Vec::with_capacity(self.non_employee_sources.len());
        for src in &self.non_employee_sources {
            for m in &src.account_manager_ids {
                identity_ref(m, &format!("account manager of source {}", src.id))?;
            }
            let mut approvers = Vec::with_capacity(src.approvers.len());
            for a in &src.approvers {
                approvers.push(approver(
                    a.approver_type,
                    &a.id,
                    &format!("approver of source {}", src.id),
                )?);
            }
            non_employee_sources.push(NonEmployeeSourceRecord {
                id: src.id.clone(),
                name: src.name.clone(),
                description: src.description.clone(),
                account_manager_ids: src.account_manager_ids.clone(),
                approvers,
            });
        }

        let mut non_employee_requests = Vec::with_capacity(self.non_employee_requests.len());
        let mut names_held = HashSet::new();
        for r in &self.non_employee_requests {
            let source = non_employee_sources
                .iter()
                .find(|s| s.id == r.source_id)
                .ok_or_else(|| {
                    problem(format!(
                        "source {} of non-employee request {} is not a non-employee source of the tenant",
                        r.source_id, r.id
                    ))
                })?;
            let requester = identity_ref(&r.requester_id, &format!("requester of {}", r.id))?;
            identity_ref(
                &r.manager,
                &format!("manager of non-employee request {}", r.id),
            )?;
            if r.approval_items.len() != source.approvers.len() {
                return Err(problem(format!(
                    "non-employee request {} has {} approval items; its source {} has {} approvers",
                    r.id,
                    r.approval_items.len(),
                    source.id,
                    source.approvers.len()
                )));
            }
            let mut items = Vec::with_capacity(r.approval_items.len());
            for (position, (a, approver)) in
                r.approval_items.iter().zip(&source.approvers).enumerate()
            {
                if let Some(reviewer) = &a.reviewer_id {
                    identity_ref(reviewer, &format!("reviewer of item {}", a.id))?;
                }
                items.push(NonEmployeeApprovalRecord {
                    id: a.id.clone(),
                    approver: approver.clone(),
                    approval_order: (position + 1) as f64,
                    approval_status: a.approval_status,
                    comment: a.comment.clone(),
                    reviewer_id: a.reviewer_id.clone(),
                    created: r.created,
                    modified: a.modified.unwrap_or(r.created),
                });
            }
            let status = request_status(&items);
            let modified = items.iter().map(|i| i.modified).max().unwrap_or(r.created);
            let record = NonEmployeeRequestRecord {
                id: r.id.clone(),
                requester,
                source: source.reference(),
                account_name: r.account_name.clone(),
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                email: r.email.clone(),
                phone: r.phone.clone(),
                manager: r.manager.clone(),
                data: r.data.clone(),
                start_date: r.start_date,
                end_date: r.end_date,
                approval_status: status,
                completion_date: (status == ApprovalStatus::Approved).then_some(modified),
                created: r.created,
                modified,
                approval_items: items,
                version: 1,
            };
            if record.holds_account_name()
                && !names_held.insert((source.id.clone(), r.account_name.to_lowercase()))
            {
                return Err(problem(format!(
                    "non-employee request {}: account name {} is already held on source {}",
                    r.id, r.account_name, source.id
                )));
            }
            // Any change of a request writes every copy of it in one transaction.
            if Store::non_employee_request_writes(&record) > MAX_TRANSACTION_ITEMS {
                return Err(problem(format!(
                    "non-employee request {}: its approvers and account managers are too many to change it atomically",
                    r.id
                )));
            }
            non_employee_requests.push(record);
        }

        Ok(TenantRecords {
            identities,
            catalog,
            non_employee_requests,
            non_employee_sources,
            access_requests: self.access_requests.clone(),
        })
    }
}

/// The demo seed that ships with the project.
pub const DEMO_SEED: &str = include_str!("../../seed/demo.json");
