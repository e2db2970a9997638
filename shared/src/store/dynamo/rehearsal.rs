//! A rehearsal of the store's calls for a Lambda's init: each kind of call
//! the store makes (GetItem, BatchGetItem, Query, DeleteItem,
//! TransactWriteItems) runs through the SDK and the store's own code, from
//! building the request to decoding the answer, against an HTTP client that
//! answers at once with a canned DynamoDB response and sends nothing.
//!
//! Why: the first time a call runs, its code is paged in from the binary,
//! its heap grown and its lazily built state set up, costing a first
//! request about 0.2–0.8 ms of CPU more than a warm one (`bench/`). Init
//! runs on a full core; the first request on a 128 MB function's 7% share
//! of one, where that work takes ~14 times as long.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::RuntimeComponents;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_types::body::SdkBody;

use super::DynamoStore;
use crate::store::item::{Condition, ItemStore, Key, Query, Read, Write};
use crate::store::StoreError;

/// The partition the rehearsal names: no real item lives under it, and
/// nothing reaches the table anyway.
const PARTITION: &str = "#WARM-UP";

/// One small item as DynamoDB's JSON carries it, so that the answers are
/// decoded as far as a record.
const ITEM: &str =
    r##"{"PK":{"S":"#WARM-UP"},"SK":{"S":"#"},"kind":{"S":"pointer"},"target":{"S":"#"}}"##;

/// Answers each request at once with a canned success for its operation
/// (from its `X-Amz-Target`), and counts the requests it answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct CannedAnswers {
    answered: Arc<AtomicUsize>,
}

impl CannedAnswers {
    /// The requests answered so far.
    pub(crate) fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }
}

/// The body of a success of the operation `target` names, for `table`.
fn canned_body(target: &str, table: &str) -> String {
    let operation = target.rsplit('.').next().unwrap_or_default();
    let table = serde_json::Value::String(table.to_string());
    match operation {
        "GetItem" => format!(r#"{{"Item":{ITEM}}}"#),
        "BatchGetItem" => {
            format!(r#"{{"Responses":{{{table}:[{ITEM}]}},"UnprocessedKeys":{{}}}}"#)
        }
        "Query" => format!(r#"{{"Items":[{ITEM}],"Count":1,"ScannedCount":1}}"#),
        _ => "{}".to_string(),
    }
}

impl HttpConnector for CannedAnswers {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.answered.fetch_add(1, Ordering::Relaxed);
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let table = request_table(request.body().bytes().unwrap_or_default());
        let mut response = HttpResponse::new(
            200.try_into().expect("200 is a status"),
            SdkBody::from(canned_body(target, &table)),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// The table a request names (BatchGetItem's answer is keyed by it).
fn request_table(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(rename = "TableName")]
        table: Option<String>,
        #[serde(rename = "RequestItems")]
        items: Option<serde_json::Map<String, serde_json::Value>>,
    }
    serde_json::from_slice::<Named>(body)
        .ok()
        .and_then(|n| n.table.or_else(|| n.items?.keys().next().cloned()))
        .unwrap_or_default()
}

impl HttpClient for CannedAnswers {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl DynamoStore {
    /// The same store (client configuration, credentials, table) with its
    /// calls answered by `answers` instead of DynamoDB.
    fn answered_by(&self, answers: CannedAnswers) -> Self {
        let config = self
            .client
            .config()
            .to_builder()
            .http_client(answers)
            .build();
        Self {
            client: aws_sdk_dynamodb::Client::from_conf(config),
            https: None,
            ..self.clone()
        }
    }

    /// Runs each kind of call the store makes once against canned answers.
    /// Nothing is sent.
    pub(crate) async fn rehearse(&self) -> Result<Rehearsed, StoreError> {
        let answers = CannedAnswers::default();
        let store = self.answered_by(answers.clone());
        let key = |sk: &str| Key::new(PARTITION, sk);
        let mut items_read = 0;
        items_read += store.get(&[Read::consistent(key("#"))]).await?.len();
        items_read += store
            .get(&[Read::eventual(key("#")), Read::eventual(key("#2"))])
            .await?
            .len();
        items_read += store
            .query(&Query::table(PARTITION).with_prefix("#"))
            .await?
            .len();
        store
            .write(vec![Write::delete_if(key("#"), Condition::Exists)])
            .await?;
        store
            .write(vec![
                Write::delete_if(key("#"), Condition::Version(1)),
                Write::Check {
                    key: key("#2"),
                    condition: Condition::Absent,
                },
            ])
            .await?;
        Ok(Rehearsed {
            calls: answers.answered(),
            items_read,
        })
    }
}

/// What a rehearsal came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rehearsed {
    /// Requests the canned client answered.
    pub calls: usize,
    /// Items the reads decoded from the answers.
    pub items_read: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

    /// A store whose client would send to an address nothing listens on.
    fn unreachable_store() -> DynamoStore {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new(
                "rehearsal",
                "rehearsal",
                None,
                None,
                "test",
            ))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        DynamoStore::new(
            aws_sdk_dynamodb::Client::from_conf(config),
            "rehearsal-table",
        )
    }

    #[tokio::test]
    async fn the_rehearsal_runs_every_kind_of_call_and_decodes_the_answers() {
        // GetItem, BatchGetItem, Query, DeleteItem, TransactWriteItems: each
        // answered by the canned client (the endpoint would refuse them).
        // The three reads each decode the canned item.
        assert_eq!(
            unreachable_store().rehearse().await.unwrap(),
            Rehearsed {
                calls: 5,
                items_read: 3
            }
        );
    }

    #[test]
    fn a_batch_answer_is_keyed_by_the_table_the_request_names() {
        let body = br#"{"RequestItems":{"requests":{"Keys":[]}}}"#;
        assert_eq!(request_table(body), "requests");
        assert_eq!(request_table(br#"{"TableName":"t"}"#), "t");
        let answer: serde_json::Value =
            serde_json::from_str(&canned_body("DynamoDB_20120810.BatchGetItem", "requests"))
                .unwrap();
        assert_eq!(answer["Responses"]["requests"][0]["kind"]["S"], "pointer");
    }
}
