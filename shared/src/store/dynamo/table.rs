//! The table's definition (`table-definition.json`, which the SAM template
//! mirrors and `scripts/check_template.py` compares) and its creation for
//! local servers and tests.

use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde::Deserialize;

use super::errors::{build_error, classify, sdk_error};
use crate::retry::backoff;
use crate::store::StoreError;

/// The table's definition, shared with the SAM template.
pub const TABLE_DEFINITION: &str = include_str!("../table-definition.json");

/// How long `create_table` waits for the table to become ACTIVE.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableDefinition {
    attribute_definitions: Vec<AttributeDef>,
    key_schema: Vec<KeyElement>,
    #[serde(default)]
    pub(super) global_secondary_indexes: Vec<IndexDef>,
    billing_mode: String,
    pub(super) time_to_live_specification: Option<TtlDef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDef {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct IndexDef {
    pub(super) index_name: String,
    key_schema: Vec<KeyElement>,
    projection: ProjectionDef,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProjectionDef {
    projection_type: String,
    #[serde(default)]
    non_key_attributes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TtlDef {
    pub(super) attribute_name: String,
    enabled: bool,
}

pub(super) fn definition() -> Result<TableDefinition, StoreError> {
    serde_json::from_str(TABLE_DEFINITION)
        .map_err(|e| StoreError::Unavailable(format!("table-definition.json: {e}")))
}

fn key_schema(elements: &[KeyElement]) -> Result<Vec<KeySchemaElement>, StoreError> {
    elements
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(build_error)
        })
        .collect()
}

/// Creates the table from `table-definition.json` (an existing table is
/// fine), waits until it and its indexes are ACTIVE, and enables its TTL.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let def = definition()?;
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(def.billing_mode.as_str()))
        .set_key_schema(Some(key_schema(&def.key_schema)?));
    for a in &def.attribute_definitions {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(build_error)?,
        );
    }
    for g in &def.global_secondary_indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&g.index_name)
                .set_key_schema(Some(key_schema(&g.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            g.projection.projection_type.as_str(),
                        ))
                        .set_non_key_attributes(
                            (!g.projection.non_key_attributes.is_empty())
                                .then(|| g.projection.non_key_attributes.clone()),
                        )
                        .build(),
                )
                .build()
                .map_err(build_error)?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => {}
        Err(e) => return Err(classify("CreateTable", &e, &[])),
    }
    wait_until_active(client, table).await?;
    if let Some(ttl) = def.time_to_live_specification.filter(|t| t.enabled) {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(ttl.attribute_name)
            .enabled(true)
            .build()
            .map_err(build_error)?;
        match client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
        {
            Ok(_) => {}
            // Already enabled (an existing table).
            Err(e) if e.code() == Some("ValidationException") => {}
            Err(e) => return Err(classify("UpdateTimeToLive", &e, &[])),
        }
    }
    Ok(())
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    let mut attempt = 0;
    loop {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(sdk_error("DescribeTable"))?;
        if let Some(t) = described.table() {
            let indexes_active = t.global_secondary_indexes().iter().all(|i| {
                i.index_status() == Some(&IndexStatus::Active) || i.index_status().is_none()
            });
            if t.table_status() == Some(&TableStatus::Active) && indexes_active {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(format!(
                "table {table} did not become ACTIVE"
            )));
        }
        attempt += 1;
        tokio::time::sleep(backoff(attempt.min(5))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::item::Index;

    #[test]
    fn the_definition_has_the_codes_indexes_and_ttl() {
        let def = definition().unwrap();
        assert_eq!(def.key_schema.len(), 2);
        let names: Vec<&str> = def
            .global_secondary_indexes
            .iter()
            .map(|g| g.index_name.as_str())
            .collect();
        let expected: Vec<&str> = Index::ALL.iter().map(|i| i.names().0).collect();
        assert_eq!(names, expected);
        assert_eq!(
            def.time_to_live_specification
                .map(|t| t.attribute_name)
                .as_deref(),
            Some(super::super::codec::EXPIRES_AT)
        );
    }
}
