//! [`Denylist`] on DynamoDB: one `deny#<jti>` item whose TTL is the first second no verifier
//! accepts the token; it is read back by [`super::revocation`].

use async_trait::async_trait;
use tokengate_domain::ports::Denylist;
use tokengate_domain::PortResult;

use super::codec::{n, s};
use super::DynamoStore;
use crate::errors::classify;

#[async_trait]
impl Denylist for DynamoStore {
    async fn deny(&self, jti: &str, until: i64) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("deny#{jti}")))
            .item("ttl", n(until))
            .send()
            .await
            .map_err(|e| classify(e, "denylist token"))?;
        Ok(())
    }
}
