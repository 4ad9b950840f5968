//! [`LockoutStore`] on DynamoDB: one `lock#<username>` item per account name, counted with an
//! atomic `ADD`, read as absent from its TTL on.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use tokengate_domain::ports::{Failure, LockState, LockoutStore};
use tokengate_domain::{PortResult, Username};

use super::codec::{key, live, lock_from, n, s};
use super::DynamoStore;
use crate::errors::{classify, service_code};

#[async_trait]
impl LockoutStore for DynamoStore {
    async fn lock_state(&self, username: &Username) -> PortResult<LockState> {
        let item = live(
            self.get(format!("lock#{username}"), "read lockout").await?,
            self.clock.now(),
        );
        item.map_or(Ok(LockState::default()), |i| lock_from(&i))
    }

    async fn record_failure(&self, username: &Username, failure: Failure) -> PortResult<LockState> {
        // Count on from a live record; an expired one (not yet deleted) starts again at 1.
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("lock#{username}"))))
            .update_expression("ADD failures :one SET last_failure_at = :now, #ttl = :exp")
            .condition_expression("attribute_not_exists(pk) OR #ttl > :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(failure.at))
            .expression_attribute_values(":exp", n(failure.keep_until))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match counted {
            Ok(out) => lock_from(&out.attributes.unwrap_or_default()),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item("pk", s(format!("lock#{username}")))
                    .item("failures", n(1))
                    .item("last_failure_at", n(failure.at))
                    .item("ttl", n(failure.keep_until))
                    .send()
                    .await
                    .map_err(|e| classify(e, "reset lockout"))?;
                Ok(LockState {
                    failures: 1,
                    last_failure_at: failure.at,
                })
            }
            Err(e) => Err(classify(e, "count login failure")),
        }
    }

    async fn clear_failures(&self, username: &Username) -> PortResult<()> {
        self.delete(format!("lock#{username}"), "clear lockout")
            .await
    }
}
