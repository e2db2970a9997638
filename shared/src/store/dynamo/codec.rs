//! Items as DynamoDB attribute maps: the record's fields (serde_dynamo),
//! plus `PK`/`SK`, the index keys, the record's `kind` and the TTL
//! attribute `expiresAt`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use crate::records::CounterRecord;
use crate::store::item::{Index, Item, Key, Record};
use crate::store::StoreError;

pub type Attributes = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const KIND: &str = "kind";
/// The table's TTL attribute (seconds since the epoch).
pub const EXPIRES_AT: &str = "expiresAt";
/// The attributes [`super::super::item::Condition`]s test.
pub const VERSION: &str = "version";
pub const TARGET: &str = "target";
/// A counter item's counts are top-level numbers (so that an update can
/// `ADD` to them), each named with this prefix.
pub const COUNT_PREFIX: &str = "c_";

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([
        (PK.to_string(), s(key.pk.to_string())),
        (SK.to_string(), s(key.sk.to_string())),
    ])
}

pub fn string_attr<'a>(item: &'a Attributes, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

fn fields<T: Serialize>(record: &T) -> Result<Attributes, StoreError> {
    to_item(record).map_err(|e| StoreError::Corrupt(format!("cannot encode record: {e}")))
}

/// The attribute map of an item.
pub fn encode(item: &Item) -> Result<Attributes, StoreError> {
    let mut attributes = match &item.record {
        Record::Identity(r) => fields(r.as_ref())?,
        Record::CatalogItem(r) => fields(r.as_ref())?,
        Record::AccessRequest(r) => fields(r.as_ref())?,
        Record::NonEmployeeRequest(r) => fields(r.as_ref())?,
        Record::NonEmployeeSource(r) => fields(r.as_ref())?,
        Record::NonEmployeeApproval(r) => fields(r.as_ref())?,
        Record::Event(r) => fields(r.as_ref())?,
        Record::Pointer(r) => fields(r)?,
        Record::Idempotency(r) => fields(r.as_ref())?,
        Record::Approval(r) => fields(r)?,
        Record::ApprovalEntry(r) => fields(&r.entry())?,
        Record::Counter(r) => r
            .counts
            .iter()
            .map(|(name, n)| {
                (
                    format!("{COUNT_PREFIX}{name}"),
                    AttributeValue::N(n.to_string()),
                )
            })
            .collect(),
    };
    attributes.extend(key_attributes(&item.key));
    attributes.insert(KIND.into(), s(item.record.kind()));
    for (index, key) in &item.indexes {
        let (_, pk, sk) = index.names();
        attributes.insert(pk.into(), s(key.pk.to_string()));
        attributes.insert(sk.into(), s(key.sk.to_string()));
    }
    if let Some(at) = item.expires_at {
        attributes.insert(EXPIRES_AT.into(), AttributeValue::N(at.to_string()));
    }
    Ok(attributes)
}

/// The size DynamoDB counts for an item (its attribute names and values),
/// which its 400 KB limit and its write units are reckoned on.
pub fn item_size(item: &Item) -> Result<usize, StoreError> {
    Ok(attributes_size(&encode(item)?))
}

/// The size DynamoDB counts for an item as an attribute map.
pub fn attributes_size(attributes: &Attributes) -> usize {
    attributes
        .iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        // Up to 38 significant digits, two to a byte, and one more.
        AttributeValue::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

fn record<T: DeserializeOwned>(attributes: Attributes, pk: &str) -> Result<T, StoreError> {
    from_item(attributes).map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))
}

fn counter(attributes: &Attributes, pk: &str) -> Result<CounterRecord, StoreError> {
    let mut counts = crate::records::Counts::new();
    for (name, value) in attributes {
        let Some(count) = name.strip_prefix(COUNT_PREFIX) else {
            continue;
        };
        let n = match value {
            AttributeValue::N(n) => n.parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(|| StoreError::Corrupt(format!("{pk}: count {name} is not an integer")))?;
        counts.insert(count.to_string(), n);
    }
    Ok(CounterRecord { counts })
}

/// The item an attribute map holds.
pub fn decode(attributes: Attributes) -> Result<Item, StoreError> {
    let attr = |name: &str| {
        string_attr(&attributes, name)
            .map(str::to_string)
            .ok_or_else(|| StoreError::Corrupt(format!("item without {name}")))
    };
    let key = Key::new(attr(PK)?, attr(SK)?);
    let kind = attr(KIND).map_err(|e| StoreError::Corrupt(format!("{}: {e}", key.pk)))?;
    let indexes = Index::ALL
        .into_iter()
        .filter_map(|index| {
            let (_, pk, sk) = index.names();
            match (string_attr(&attributes, pk), string_attr(&attributes, sk)) {
                (Some(p), Some(s)) => Some((index, Key::new(p, s))),
                _ => None,
            }
        })
        .collect();
    let expires_at = match attributes.get(EXPIRES_AT) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    let pk: &str = &key.pk;
    let record = match kind.as_str() {
        "identity" => Record::Identity(Box::new(record(attributes, pk)?)),
        "catalogItem" => Record::CatalogItem(Box::new(record(attributes, pk)?)),
        "accessRequest" => Record::AccessRequest(std::sync::Arc::new(record(attributes, pk)?)),
        "nonEmployeeRequest" => {
            Record::NonEmployeeRequest(std::sync::Arc::new(record(attributes, pk)?))
        }
        "nonEmployeeSource" => Record::NonEmployeeSource(Box::new(record(attributes, pk)?)),
        "nonEmployeeApproval" => {
            Record::NonEmployeeApproval(std::sync::Arc::new(record(attributes, pk)?))
        }
        "event" => Record::Event(Box::new(record(attributes, pk)?)),
        "pointer" => Record::Pointer(record(attributes, pk)?),
        "idempotency" => Record::Idempotency(Box::new(record(attributes, pk)?)),
        "approval" => Record::Approval(record(attributes, pk)?),
        "approvalEntry" => Record::ApprovalEntry(crate::records::StoredEntry::Entry(
            std::sync::Arc::new(record(attributes, pk)?),
        )),
        "counter" => Record::Counter(counter(&attributes, pk)?),
        other => {
            return Err(StoreError::Corrupt(format!(
                "{pk}: unknown record kind {other}"
            )))
        }
    };
    Ok(Item {
        key,
        indexes,
        expires_at,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::PointerRecord;

    #[test]
    fn items_round_trip_through_attributes() {
        let item = Item::new(
            Key::new("T#t#X", "#"),
            Record::Pointer(PointerRecord {
                target: "r1".into(),
            }),
        )
        .indexed(Index::Gsi2, Key::new("T#t#Y", "2024#r1"))
        .expiring(1_800_000_000);
        let attributes = encode(&item).unwrap();
        assert_eq!(string_attr(&attributes, KIND), Some("pointer"));
        assert_eq!(string_attr(&attributes, "GSI2PK"), Some("T#t#Y"));
        assert_eq!(string_attr(&attributes, TARGET), Some("r1"));
        assert_eq!(decode(attributes).unwrap(), item);
    }

    #[test]
    fn an_unknown_kind_is_corrupt() {
        let mut attributes = key_attributes(&Key::new("p", "s"));
        attributes.insert(KIND.into(), s("spaceship"));
        assert!(matches!(decode(attributes), Err(StoreError::Corrupt(_))));
    }
}
