//! [`UserStore`] on DynamoDB: the `user#` item and the `principal#` item the authorizer reads,
//! always changed together in one transaction, with the revocation-feed entry of every
//! token-version bump (each one revokes the user's older tokens).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use tokengate_domain::ports::{Revoked, User, UserStatus, UserStore};
use tokengate_domain::{PortError, PortResult, Username};

use super::codec::{
    key, list, n, principal_from, principal_item, principal_username, s, user_from, user_item,
};
use super::transact::build_err;
use super::DynamoStore;
use crate::errors::{classify, service_code};

/// A token-version bump of one user from the version read, with what changes alongside.
struct VersionBump<'a> {
    username: &'a str,
    user_id: &'a str,
    /// The version read; the write is conditional on it.
    expected: u64,
    /// New roles (user item only), if they change.
    roles: Option<&'a [String]>,
    /// Status after the bump (both items).
    status: UserStatus,
    /// A new password hash (user item only), if it changes.
    password_hash: Option<&'a str>,
}

/// What changes alongside a token-version bump (nothing: a bare bump signs out everywhere).
#[derive(Default, Clone, Copy)]
struct UserChange<'a> {
    roles: Option<&'a [String]>,
    status: Option<UserStatus>,
    password_hash: Option<&'a str>,
}

impl DynamoStore {
    /// Applies `bump` to both items in one transaction. `None` when the version moved
    /// concurrently (caller retries).
    async fn bump(&self, bump: VersionBump<'_>) -> PortResult<Option<u64>> {
        let next = bump.expected + 1;
        let mut set = "SET token_version = :next, #st = :status".to_owned();
        let mut user = self
            .update(format!("user#{}", bump.username))
            .condition_expression("token_version = :expected")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":expected", n(bump.expected))
            .expression_attribute_values(":status", s(bump.status.as_str()));
        if let Some(roles) = bump.roles {
            // `roles` is a DynamoDB reserved word.
            set.push_str(", #roles = :roles");
            user = user
                .expression_attribute_names("#roles", "roles")
                .expression_attribute_values(":roles", list(roles));
        }
        if let Some(hash) = bump.password_hash {
            set.push_str(", password_hash = :hash");
            user = user.expression_attribute_values(":hash", s(hash));
        }
        let user = user.update_expression(set);
        let principal = self
            .update(format!("principal#{}", bump.user_id))
            .update_expression("SET token_version = :next, #st = :status")
            .condition_expression("token_version = :expected")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":expected", n(bump.expected))
            .expression_attribute_values(":status", s(bump.status.as_str()));
        let items = vec![
            TransactWriteItem::builder()
                .update(user.build().map_err(build_err)?)
                .build(),
            TransactWriteItem::builder()
                .update(principal.build().map_err(build_err)?)
                .build(),
        ];
        let revoked = Revoked::Principal {
            user_id: bump.user_id.to_owned(),
            min_version: next,
        };
        match self
            .transact_revoking(items, revoked, None, "change token version")
            .await?
        {
            Ok(()) => Ok(Some(next)),
            Err(_) => Ok(None),
        }
    }

    /// Reads the user, then bumps; retries a few times when another change raced us.
    async fn change_user(
        &self,
        username: &Username,
        change: UserChange<'_>,
    ) -> PortResult<Option<u64>> {
        for _ in 0..5 {
            let Some(user) = self.find_user(username).await? else {
                return Ok(None);
            };
            let bump = VersionBump {
                username: user.username.as_str(),
                user_id: &user.user_id,
                expected: user.token_version,
                roles: change.roles,
                status: change.status.unwrap_or(user.status),
                password_hash: change.password_hash,
            };
            if let Some(v) = self.bump(bump).await? {
                return Ok(Some(v));
            }
        }
        Err(PortError::Unavailable(anyhow::anyhow!(
            "token version kept changing concurrently"
        )))
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn find_user(&self, username: &Username) -> PortResult<Option<User>> {
        let item = self.get(format!("user#{username}"), "read user").await?;
        item.map(|i| user_from(username, &i)).transpose()
    }

    async fn create_user(&self, user: &User) -> PortResult<bool> {
        let put = |item| {
            Put::builder()
                .table_name(&self.tables.main)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_err)
        };
        let items = vec![
            TransactWriteItem::builder()
                .put(put(user_item(user, self.clock.now()))?)
                .build(),
            TransactWriteItem::builder()
                .put(put(principal_item(user))?)
                .build(),
        ];
        Ok(self.transact(items, "create user").await?.is_ok())
    }

    async fn upgrade_password_hash(&self, read: &User, hash: &str) -> PortResult<bool> {
        // Conditional on what the login read: a change that committed since (a new password
        // bumps the version and replaces the hash) must not be overwritten with the old one.
        let sent = self
            .client
            .update_item()
            .table_name(&self.tables.main)
            .set_key(Some(key(format!("user#{}", read.username))))
            .update_expression("SET password_hash = :h")
            .condition_expression("password_hash = :read_hash AND token_version = :read_version")
            .expression_attribute_values(":h", s(hash))
            .expression_attribute_values(":read_hash", s(&read.password_hash))
            .expression_attribute_values(":read_version", n(read.token_version))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if service_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(classify(e, "upgrade password hash")),
        }
    }

    async fn set_roles(&self, username: &Username, roles: &[String]) -> PortResult<Option<u64>> {
        let change = UserChange {
            roles: Some(roles),
            ..UserChange::default()
        };
        self.change_user(username, change).await
    }

    async fn set_status(&self, username: &Username, status: UserStatus) -> PortResult<Option<u64>> {
        let change = UserChange {
            status: Some(status),
            ..UserChange::default()
        };
        self.change_user(username, change).await
    }

    async fn sign_out_everywhere(&self, user_id: &str) -> PortResult<Option<u64>> {
        let Some(username) = self.find_username(user_id).await? else {
            return Ok(None);
        };
        self.change_user(&username, UserChange::default()).await
    }

    async fn change_password(
        &self,
        username: &Username,
        hash: &str,
        expected_version: u64,
    ) -> PortResult<Option<u64>> {
        let Some(user) = self.find_user(username).await? else {
            return Ok(None);
        };
        if user.token_version != expected_version {
            return Ok(None);
        }
        // One attempt, no retry: a version that moved means somebody else changed the user.
        self.bump(VersionBump {
            username: user.username.as_str(),
            user_id: &user.user_id,
            expected: expected_version,
            roles: None,
            status: user.status,
            password_hash: Some(hash),
        })
        .await
    }

    async fn find_username(&self, user_id: &str) -> PortResult<Option<Username>> {
        let principal = self
            .get(format!("principal#{user_id}"), "read principal")
            .await?;
        principal.map(|p| principal_username(&p)).transpose()
    }

    async fn sign_out_everywhere_from(
        &self,
        user_id: &str,
        token_version: u64,
    ) -> PortResult<Option<u64>> {
        let Some(p) = self
            .get(format!("principal#{user_id}"), "read principal")
            .await?
        else {
            return Ok(None);
        };
        let principal = principal_from(&p)?;
        if principal.token_version != token_version || principal.status != UserStatus::Active {
            return Ok(None);
        }
        // Conditional on the proven version: a concurrent bump (another logout, a disable)
        // wins and this one changes nothing, with no retry from the newer version.
        let username = principal_username(&p)?;
        self.bump(VersionBump {
            username: username.as_str(),
            user_id,
            expected: token_version,
            roles: None,
            status: UserStatus::Active,
            password_hash: None,
        })
        .await
    }
}
