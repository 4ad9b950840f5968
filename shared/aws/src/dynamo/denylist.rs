//! [`Denylist`] on DynamoDB: one `deny#<jti>` item whose TTL is the first second no verifier
//! accepts the token, read back by [`super::revocation`], and its revocation-feed entry, in
//! one transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use tokengate_domain::ports::{Denylist, Revoked};
use tokengate_domain::{PortError, PortResult};

use super::codec::{n, s};
use super::transact::build_err;
use super::DynamoStore;

#[async_trait]
impl Denylist for DynamoStore {
    async fn deny(&self, jti: &str, until: i64) -> PortResult<()> {
        let put = Put::builder()
            .table_name(&self.tables.main)
            .item("pk", s(format!("deny#{jti}")))
            .item("ttl", n(until))
            .build()
            .map_err(build_err)?;
        let items = vec![TransactWriteItem::builder().put(put).build()];
        let revoked = Revoked::Token {
            jti: jti.to_owned(),
        };
        match self
            .transact_revoking(items, revoked, Some(until), "denylist token")
            .await?
        {
            Ok(()) => Ok(()),
            // Neither put has a condition: a cancellation is another writer of the same
            // `deny#` item at the same moment (`TransactionConflict`); the caller may retry.
            Err(_) => Err(PortError::Unavailable(anyhow::anyhow!(
                "denylisting a token was cancelled by a concurrent write"
            ))),
        }
    }
}
