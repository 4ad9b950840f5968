//! [`RevocationSource`] on DynamoDB: the `deny#<jti>`, `principal#<user_id>` and `session#<sid>` items in one
//! `BatchGetItem`, the authorizer's single round trip.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use tokengate_domain::ports::{RevocationSource, RevocationStatus};
use tokengate_domain::{PortError, PortResult};

use super::codec::{key, live, principal_from, Item};
use super::transact::build_err;
use super::DynamoStore;
use crate::errors::classify;

#[async_trait]
impl RevocationSource for DynamoStore {
    async fn revocation_status(
        &self,
        jti: &str,
        user_id: &str,
        sid: Option<&str>,
    ) -> PortResult<RevocationStatus> {
        let deny_pk = format!("deny#{jti}");
        let principal_pk = format!("principal#{user_id}");
        let session_pk = sid.map(|sid| format!("session#{sid}"));
        let mut wanted = KeysAndAttributes::builder()
            .keys(key(deny_pk.clone()))
            .keys(key(principal_pk.clone()))
            .consistent_read(true);
        if let Some(pk) = &session_pk {
            wanted = wanted.keys(key(pk.clone()));
        }
        let mut wanted = wanted.build().map_err(build_err)?;
        let mut found: Vec<Item> = Vec::new();
        // One round trip; a second only if DynamoDB hands keys back unprocessed (throttling).
        for _ in 0..3 {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.tables.main, wanted.clone())
                .send()
                .await
                .map_err(|e| classify(e, "read revocation state"))?;
            if let Some(mut r) = out.responses {
                found.extend(r.remove(&self.tables.main).unwrap_or_default());
            }
            match out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.tables.main))
            {
                Some(rest) if !rest.keys().is_empty() => wanted = rest,
                _ => {
                    let pk = |i: &Item| i.get("pk").and_then(|v| v.as_s().ok()).cloned();
                    let deny = found.iter().find(|i| pk(i).as_deref() == Some(&deny_pk));
                    let principal = found
                        .iter()
                        .find(|i| pk(i).as_deref() == Some(&principal_pk));
                    let session = found.iter().find(|i| pk(i) == session_pk);
                    return Ok(RevocationStatus {
                        jti_denied: live(deny.cloned(), self.clock.now()).is_some(),
                        session_revoked: session.is_some_and(|i| {
                            matches!(i.get("revoked"), Some(AttributeValue::Bool(true)))
                        }),
                        principal: principal.map(principal_from).transpose()?,
                    });
                }
            }
        }
        Err(PortError::Unavailable(anyhow::anyhow!(
            "revocation state read left keys unprocessed"
        )))
    }
}
