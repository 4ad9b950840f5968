//! [`SessionStore`] on DynamoDB: one `session#<sid>` item per refresh-token family. Every
//! write that hands out a token (rotation, grace reissue) is one transaction with a condition
//! check on the owner's `principal#` item, so a sign-out everywhere or a disable between the
//! read and the write is seen.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use tokengate_domain::ports::{Reissue, Rotation, Session, SessionStore, UserStatus, WriteOutcome};
use tokengate_domain::{PortResult, TokenHash};

use super::codec::{key, n, principal_from, s, session_from, session_item, SESSION_ATTRS};
use super::transact::build_err;
use super::DynamoStore;
use crate::errors::{classify, service_code};

impl DynamoStore {
    fn principal_check(&self, user_id: &str, version: u64) -> PortResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(format!("principal#{user_id}"))))
            .condition_expression("token_version = :v AND #st = :active")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":active", s(UserStatus::Active.as_str()))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Runs [principal check, session update]; maps a cancellation to the item that failed.
    async fn session_write(
        &self,
        user_id: &str,
        version: u64,
        update: Update,
        op: &'static str,
    ) -> PortResult<WriteOutcome> {
        let items = vec![
            self.principal_check(user_id, version)?,
            TransactWriteItem::builder().update(update).build(),
        ];
        match self.transact(items, op).await? {
            Ok(()) => Ok(WriteOutcome::Written),
            Err(Some(failed)) if failed.first() == Some(&true) => {
                Ok(WriteOutcome::PrincipalChanged)
            }
            Err(Some(_)) => Ok(WriteOutcome::SessionChanged),
            // No per-item reasons: look at the principal to tell which condition failed.
            Err(None) => {
                let p = self
                    .get(format!("principal#{user_id}"), "read principal")
                    .await?;
                let unchanged = p.as_ref().is_some_and(|p| {
                    principal_from(p).ok().is_some_and(|p| {
                        p.token_version == version && p.status == UserStatus::Active
                    })
                });
                Ok(if unchanged {
                    WriteOutcome::SessionChanged
                } else {
                    WriteOutcome::PrincipalChanged
                })
            }
        }
    }

    /// `SET revoked = true` on the session `sid` if `condition` holds; `false` if it did not.
    async fn revoke_if(
        &self,
        sid: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
        op: &'static str,
    ) -> PortResult<bool> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("session#{sid}"))))
            .update_expression("SET revoked = :yes")
            .condition_expression(condition)
            .expression_attribute_values(":yes", AttributeValue::Bool(true));
        for (name, value) in values {
            req = req.expression_attribute_values(*name, value.clone());
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(classify(e, op)),
        }
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn grant(&self, session: &Session) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(session)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| classify(e, "create session"))?;
        Ok(())
    }

    async fn find_session(&self, sid: &str) -> PortResult<Option<Session>> {
        let mut req = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("session#{sid}"))))
            .consistent_read(true);
        // Names are aliased: several (ttl, roles…) collide with DynamoDB reserved words.
        let mut projection = Vec::new();
        for (i, attr) in SESSION_ATTRS.iter().enumerate() {
            req = req.expression_attribute_names(format!("#a{i}"), *attr);
            projection.push(format!("#a{i}"));
        }
        let out = req
            .projection_expression(projection.join(", "))
            .send()
            .await
            .map_err(|e| classify(e, "read session"))?;
        out.item.map(|i| session_from(sid, &i)).transpose()
    }

    async fn rotate(&self, r: &Rotation) -> PortResult<WriteOutcome> {
        let update = self
            .update(format!("session#{}", r.sid))
            .update_expression(
                "SET previous_hash = :from, current_hash = :to, rotated_at = :now, \
                 last_used_at = :now, generation = generation + :one ADD spent :spent",
            )
            .condition_expression("current_hash = :from AND revoked = :no")
            .expression_attribute_values(":from", s(r.from.as_str()))
            .expression_attribute_values(":to", s(r.to.as_str()))
            .expression_attribute_values(":now", n(r.now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(
                ":spent",
                AttributeValue::Ss(vec![r.from.as_str().to_owned()]),
            )
            .build()
            .map_err(build_err)?;
        self.session_write(&r.user_id, r.token_version, update, "rotate session")
            .await
    }

    async fn reissue_current(&self, r: &Reissue) -> PortResult<WriteOutcome> {
        let update = self
            .update(format!("session#{}", r.sid))
            .update_expression("SET last_used_at = :now")
            .condition_expression("current_hash = :current AND revoked = :no")
            .expression_attribute_values(":now", n(r.now))
            .expression_attribute_values(":current", s(r.current.as_str()))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .build()
            .map_err(build_err)?;
        self.session_write(&r.user_id, r.token_version, update, "reissue current token")
            .await
    }

    async fn revoke_family(&self, sid: &str) -> PortResult<()> {
        // The condition keeps a revocation of a session that does not exist from creating an
        // item; failing it is a no-op (logout is idempotent).
        self.revoke_if(sid, "attribute_exists(pk)", &[], "revoke session")
            .await
            .map(drop)
    }

    async fn revoke_family_if_spent(&self, sid: &str, hash: &TokenHash) -> PortResult<bool> {
        let spent = [(":h", s(hash.as_str()))];
        self.revoke_if(sid, "contains(spent, :h)", &spent, "revoke reused session")
            .await
    }

    async fn cancel_grant(&self, sid: &str) -> PortResult<()> {
        self.delete(format!("session#{sid}"), "delete session")
            .await
    }
}
