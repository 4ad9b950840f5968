//! [`RateLimiter`] on DynamoDB: one `rate#<key>#<window start>` counter per window, counted
//! with an atomic `ADD`; the key names the window, so no read needs its TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use tokengate_domain::ports::{RateLimiter, Window};
use tokengate_domain::PortResult;

use super::codec::{get_n, key, n};
use super::DynamoStore;
use crate::errors::classify;

#[async_trait]
impl RateLimiter for DynamoStore {
    async fn count_hit(&self, key_name: &str, window: Window) -> PortResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.main)
            .set_key(Some(key(format!("rate#{key_name}#{}", window.start))))
            .update_expression("ADD #count :one SET #ttl = :end")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":end", n(window.end))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| classify(e, "count request"))?;
        get_n(&out.attributes.unwrap_or_default(), "count")
    }
}
