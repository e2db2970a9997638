//! Domain rules: validation, authority, the request lifecycle and the list
//! queries, one module per API area, and the collection parameters they
//! share. Plain Rust: no Lambda or AWS SDK types.

pub mod access_requests;
pub mod approvals;
pub mod collection;
pub mod non_employee;

use std::collections::HashMap;

use crate::auth::Principal;
use crate::records::{IdentityRecord, NamedRef};

/// The caller as the actor of a change, by the name the directory gives it
/// (the token's user name if the directory has none); an API-only token is
/// named by its client id.
pub(crate) fn caller_ref(
    principal: &Principal,
    identities: &HashMap<String, IdentityRecord>,
) -> NamedRef {
    let Some(id) = principal.identity_id.clone() else {
        let client = principal
            .client_id
            .clone()
            .unwrap_or_else(|| "API client".to_string());
        return NamedRef {
            id: client.clone(),
            name: client,
        };
    };
    let name = identities
        .get(&id)
        .map(|i| i.name.clone())
        .or_else(|| principal.user_name.clone())
        .unwrap_or_else(|| id.clone());
    NamedRef { id, name }
}
