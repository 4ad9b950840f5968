//! [`SessionStore`] on DynamoDB: one `session#<sid>` item per refresh-token family, of a fixed
//! size however often it rotates (only the current and previous token hashes, the family hash
//! and counters: no spent token is kept). Every write that hands out a token (rotation, grace
//! reissue) is one transaction with a condition check on the owner's `principal#` item, so a
//! sign-out everywhere or a disable between the read and the write is seen, and it counts the
//! refresh in the session's own limit in the same update. A revocation of the family is one
//! transaction with its revocation-feed entry.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use tokengate_domain::ports::{
    RefreshCount, Reissue, Revoked, Rotation, Session, SessionStore, UserStatus, WriteOutcome,
};
use tokengate_domain::{PortResult, TokenHash};

use super::codec::{key, n, principal_from, s, session_from, session_item, SESSION_ATTRS};
use super::transact::build_err;
use super::DynamoStore;
use crate::errors::classify;

impl DynamoStore {
    fn principal_check(&self, user_id: &str, version: u64) -> PortResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.tables.main)
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

    /// A session update that sets `set` and counts `count` in the session's refresh window,
    /// on condition `condition` and that the stored counter allows `count` (see
    /// [`RefreshCount`]): in the open window, add one while below the limit; past it, open the
    /// next window only if no concurrent refresh opened it first.
    fn counted_update(
        &self,
        sid: &str,
        set: &str,
        condition: &str,
        count: &RefreshCount,
    ) -> UpdateBuilder {
        let (window_set, window_condition) = if count.continues_window() {
            (
                "window_hits = window_hits + :one",
                "window_start = :ws AND window_hits < :limit",
            )
        } else {
            (
                "window_start = :ws, window_hits = :one",
                "window_start = :seen",
            )
        };
        let update = self
            .update(format!("session#{sid}"))
            .update_expression(format!("SET {set}, {window_set}"))
            .condition_expression(format!("{condition} AND {window_condition}"))
            .expression_attribute_values(":ws", n(count.window_start))
            .expression_attribute_values(":one", n(1));
        if count.continues_window() {
            update.expression_attribute_values(":limit", n(count.limit))
        } else {
            update.expression_attribute_values(":seen", n(count.seen_window_start))
        }
    }

    /// `SET revoked = true` on the session `sid` if `condition` holds, with its feed entry,
    /// in one transaction; `false` (and no entry) if the condition did not hold.
    async fn revoke_if(
        &self,
        sid: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
        op: &'static str,
    ) -> PortResult<bool> {
        let mut update = self
            .update(format!("session#{sid}"))
            .update_expression("SET revoked = :yes")
            .condition_expression(condition)
            .expression_attribute_values(":yes", AttributeValue::Bool(true));
        for (name, value) in values {
            update = update.expression_attribute_values(*name, value.clone());
        }
        let items = vec![TransactWriteItem::builder()
            .update(update.build().map_err(build_err)?)
            .build()];
        let revoked = Revoked::Session {
            sid: sid.to_owned(),
        };
        // The session's update is the one condition: any cancellation answered as a
        // condition failure is this one.
        Ok(self
            .transact_revoking(items, revoked, None, op)
            .await?
            .is_ok())
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn grant(&self, session: &Session) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(&self.tables.main)
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
            .table_name(&self.tables.main)
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
        out.item.map_or(Ok(None), |i| session_from(sid, &i))
    }

    async fn rotate(&self, r: &Rotation) -> PortResult<WriteOutcome> {
        let update = self
            .counted_update(
                &r.sid,
                "previous_hash = :from, current_hash = :to, rotated_at = :now, \
                 last_used_at = :now, generation = generation + :one",
                "current_hash = :from AND revoked = :no",
                &r.count,
            )
            .expression_attribute_values(":from", s(r.from.as_str()))
            .expression_attribute_values(":to", s(r.to.as_str()))
            .expression_attribute_values(":now", n(r.now))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .build()
            .map_err(build_err)?;
        self.session_write(&r.user_id, r.token_version, update, "rotate session")
            .await
    }

    async fn reissue_current(&self, r: &Reissue) -> PortResult<WriteOutcome> {
        let update = self
            .counted_update(
                &r.sid,
                "last_used_at = :now",
                "current_hash = :current AND revoked = :no",
                &r.count,
            )
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

    async fn revoke_family_on_reuse(&self, sid: &str, family: &TokenHash) -> PortResult<bool> {
        let family = [(":f", s(family.as_str()))];
        self.revoke_if(sid, "family_hash = :f", &family, "revoke reused session")
            .await
    }

    async fn cancel_grant(&self, sid: &str) -> PortResult<()> {
        self.delete(format!("session#{sid}"), "delete session")
            .await
    }
}
