//! DynamoDB store (in progress: temporary stub so the crate compiles).
#![allow(unused)]
use super::*;
use crate::records::*;
pub const MAX_TRANSACTION_ITEMS: usize = 100;
pub fn submission_write_count(requests: &[AccessRequestRecord], claims: &[PendingClaim]) -> usize {
    requests.len() + requests.iter().map(|r| r.assignees().len()).sum::<usize>() + claims.len()
}
pub struct DynamoStore;
impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore
    }
    pub async fn from_env() -> Result<Self, StoreError> {
        Err(StoreError::Unavailable("stub".into()))
    }
    pub async fn create_table(
        client: &aws_sdk_dynamodb::Client,
        table: &str,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        unimplemented!()
    }
    pub async fn warm_up(&self) {}
}
pub async fn local_client(endpoint: &str, counter: Option<()>) -> aws_sdk_dynamodb::Client {
    unimplemented!()
}
#[async_trait::async_trait]
impl Store for DynamoStore {
    async fn lookup(&self, tenant: &str, lookup: &Lookup) -> Result<LookupResult, StoreError> {
        todo!()
    }
    async fn get_requests(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        todo!()
    }
    async fn create_requests(
        &self,
        tenant: &str,
        requests: &[AccessRequestRecord],
        claims: &[PendingClaim],
    ) -> Result<(), StoreError> {
        todo!()
    }
    async fn query_requests(
        &self,
        tenant: &str,
        index: &RequestIndex,
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        todo!()
    }
    async fn update_request(
        &self,
        tenant: &str,
        record: &AccessRequestRecord,
        event: Option<&EventRecord>,
    ) -> Result<(), StoreError> {
        todo!()
    }
    async fn put_event(&self, tenant: &str, event: &EventRecord) -> Result<(), StoreError> {
        todo!()
    }
    async fn list_events(&self, tenant: &str) -> Result<Vec<EventRecord>, StoreError> {
        todo!()
    }
    async fn get_non_employee_request(
        &self,
        tenant: &str,
        approval_item_id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        todo!()
    }
    async fn update_non_employee_request(
        &self,
        tenant: &str,
        record: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        todo!()
    }
    async fn load_tenant(&self, tenant: &str, records: &TenantRecords) -> Result<(), StoreError> {
        todo!()
    }
}
