//! The seed format: a tenant's directory (identities, managers, governance
//! groups), catalog (access profiles, roles, entitlements with owners, the
//! requestable flag and approval schemes), non-employee approval items,
//! optional pre-existing access requests, and OAuth clients for local use.
//! `resolve` turns it into store records, copying names and group members
//! where a request will need them so that each operation reads once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::models::{ApprovalScheme, ApprovalStatus, ItemType, OwnerType};
use crate::records::{
    AccessRequestRecord, ApprovalStep, Approver, CatalogItemRecord, IdentityRecord, NamedRef,
    NonEmployeeApprovalRecord, NonEmployeeRequestRecord,
};
use crate::store::{Store, StoreError, TenantRecords};

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedNonEmployeeRequest {
    pub id: String,
    pub requester_id: String,
    pub account_name: String,
    pub created: DateTime<Utc>,
    pub approval_items: Vec<SeedApprovalItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedApprovalItem {
    pub id: String,
    pub approver_type: OwnerType,
    pub approver_id: String,
    pub approval_order: f64,
    pub approval_status: ApprovalStatus,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub modified: Option<DateTime<Utc>>,
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
            store.load_tenant(&tenant.tenant_id, &records).await?;
        }
        Ok(())
    }
}

impl SeedTenant {
    /// Resolves references into records, failing on any dangling id.
    pub fn resolve(&self) -> Result<TenantRecords, SeedError> {
        let problem = |p: String| SeedError::Reference {
            tenant: self.tenant_id.clone(),
            problem: p,
        };
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

        let mut non_employee_requests = Vec::with_capacity(self.non_employee_requests.len());
        for r in &self.non_employee_requests {
            let requester = identity_ref(&r.requester_id, &format!("requester of {}", r.id))?;
            let mut items = Vec::with_capacity(r.approval_items.len());
            for a in &r.approval_items {
                items.push(NonEmployeeApprovalRecord {
                    id: a.id.clone(),
                    approver: approver(
                        a.approver_type,
                        &a.approver_id,
                        &format!("approver of item {}", a.id),
                    )?,
                    approval_order: a.approval_order,
                    approval_status: a.approval_status,
                    comment: a.comment.clone(),
                    created: r.created,
                    modified: a.modified.unwrap_or(r.created),
                });
            }
            let status = overall_status(&items);
            let modified = items.iter().map(|i| i.modified).max().unwrap_or(r.created);
            non_employee_requests.push(NonEmployeeRequestRecord {
                id: r.id.clone(),
                requester,
                account_name: r.account_name.clone(),
                approval_status: status,
                created: r.created,
                modified,
                approval_items: items,
                version: 1,
            });
        }

        Ok(TenantRecords {
            identities,
            catalog,
            non_employee_requests,
            access_requests: self.access_requests.clone(),
        })
    }
}

/// A non-employee request is rejected once any item is, approved once all
/// are, and pending otherwise.
fn overall_status(items: &[NonEmployeeApprovalRecord]) -> ApprovalStatus {
    if items
        .iter()
        .any(|i| i.approval_status == ApprovalStatus::Rejected)
    {
        ApprovalStatus::Rejected
    } else if !items.is_empty()
        && items
            .iter()
            .all(|i| i.approval_status == ApprovalStatus::Approved)
    {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Pending
    }
}

/// The demo seed that ships with the project.
pub const DEMO_SEED: &str = include_str!("../../seed/demo.json");
