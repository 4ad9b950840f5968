//! User administration.

use anyhow::Context;
use tokengate_aws::DynamoStore;
use tokengate_domain::new_password;
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::refresh_token::random_id;
use tokengate_domain::{Password, PasswordHasher, Username};

/// Demo users of `make dev`. Demo only: the passwords are printed and well known.
const DEMO_USERS: &[(&str, &str, &[&str])] = &[
    ("alice", "alice-demo-password", &[]),
    ("admin", "admin-demo-password", &["admin"]),
];

fn name(raw: &str) -> anyhow::Result<Username> {
    Username::parse(raw).with_context(|| format!("invalid user name {raw:?}"))
}

/// A new password: `TOKENGATE_NEW_PASSWORD`, else the first line of stdin (read up to its end
/// of line only, so that a terminal needs no Ctrl-D). Never a command-line argument, which
/// other users of the machine can read.
pub fn read_new_password() -> anyhow::Result<String> {
    match std::env::var("TOKENGATE_NEW_PASSWORD") {
        Ok(p) => Ok(p),
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("failed to read the password from stdin")?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

/// `raw` as `username`'s new password, if it passes the rules a password change applies
/// (`tokengate_domain::new_password`).
fn strong(username: &Username, raw: &str) -> anyhow::Result<Password> {
    new_password::check(username, raw).map_err(|e| anyhow::anyhow!("{}", e.code.message()))
}

/// Hasher with the parameters the login function uses (`TOKENGATE_ARGON2_*`, refused below
/// OWASP's minimum as the login function refuses them).
fn hasher() -> anyhow::Result<PasswordHasher> {
    let env = tokengate_domain::config::Env::process();
    PasswordHasher::new(tokengate_domain::config::hash_params(&env)?)
}

/// Creates a user; an existing name is an error and changes nothing.
pub async fn add(
    store: &DynamoStore,
    raw: &str,
    password: &str,
    roles: Vec<String>,
) -> anyhow::Result<()> {
    let username = name(raw)?;
    let password = strong(&username, password)?;
    create(store, username, &password, roles).await
}

async fn create(
    store: &DynamoStore,
    username: Username,
    password: &Password,
    roles: Vec<String>,
) -> anyhow::Result<()> {
    let user = User {
        username: username.clone(),
        user_id: random_id(),
        password_hash: hasher()?.hash(password)?,
        roles,
        status: UserStatus::Active,
        token_version: 1,
    };
    anyhow::ensure!(
        store.create_user(&user).await?,
        "user {username} already exists"
    );
    println!("created user {username} (sub {})", user.user_id);
    Ok(())
}

/// Replaces a user's password (a reset: no current password needed) and ends every session
/// and access token of theirs, in one write.
pub async fn set_password(store: &DynamoStore, raw: &str, password: &str) -> anyhow::Result<()> {
    let username = name(raw)?;
    let password = strong(&username, password)?;
    let hash = hasher()?.hash(&password)?;
    let user = store
        .find_user(&username)
        .await?
        .with_context(|| format!("no user {raw:?}"))?;
    let v = store
        .change_password(&username, &hash, user.token_version)
        .await?
        .with_context(|| format!("{raw} changed meanwhile; run the reset again"))?;
    changed(raw, Some(v), "password replaced")
}

/// Whether `endpoint` (the value of `AWS_ENDPOINT_URL`) is a server on this machine: the local
/// emulator, never a real AWS endpoint.
pub fn is_local_endpoint(endpoint: Option<&str>) -> bool {
    let Some(url) = endpoint else {
        return false;
    };
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
    // No credentials in the authority: `http://127.0.0.1@evil.example` is evil.example.
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Creates the demo users if missing and prints their credentials.
pub async fn seed_demo(store: &DynamoStore) -> anyhow::Result<()> {
    for (user, password, roles) in DEMO_USERS {
        let username = name(user)?;
        if store.find_user(&username).await?.is_none() {
            // Demo passwords are published anyway: the strength rules would only get in the way.
            create(
                store,
                username,
                &Password::new(*password),
                roles.iter().map(|r| r.to_string()).collect(),
            )
            .await?;
        }
        println!(
            "demo user: {user} / {password} (roles: {})",
            if roles.is_empty() {
                "none".to_owned()
            } else {
                roles.join(",")
            }
        );
    }
    Ok(())
}

fn changed(raw: &str, version: Option<u64>, what: &str) -> anyhow::Result<()> {
    let v = version.with_context(|| format!("no user {raw:?}"))?;
    println!("{what}; {raw} is now at token version {v}: older tokens and sessions are dead");
    Ok(())
}

/// Replaces the roles; bumps the token version so tokens with the old roles die.
pub async fn set_roles(store: &DynamoStore, raw: &str, roles: Vec<String>) -> anyhow::Result<()> {
    let v = store.set_roles(&name(raw)?, &roles).await?;
    changed(raw, v, &format!("roles set to [{}]", roles.join(",")))
}

/// Disables or enables a user (either way, existing tokens die).
pub async fn set_enabled(store: &DynamoStore, raw: &str, enabled: bool) -> anyhow::Result<()> {
    let status = if enabled {
        UserStatus::Active
    } else {
        UserStatus::Disabled
    };
    let v = store.set_status(&name(raw)?, status).await?;
    changed(raw, v, &format!("status set to {}", status.as_str()))
}

/// Ends every session and access token of the user.
pub async fn revoke_sessions(store: &DynamoStore, raw: &str) -> anyhow::Result<()> {
    let user = store
        .find_user(&name(raw)?)
        .await?
        .with_context(|| format!("no user {raw:?}"))?;
    let v = store.sign_out_everywhere(&user.user_id).await?;
    changed(raw, v, "sessions revoked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_endpoint_on_this_machine_is_local() {
        for local in [
            "http://127.0.0.1:4566",
            "http://localhost:8000/",
            "http://127.9.9.9",
            "http://[::1]:5000",
        ] {
            assert!(is_local_endpoint(Some(local)), "{local}");
        }
        for remote in [
            None,
            Some("https://dynamodb.eu-west-1.amazonaws.com"),
            Some("http://127.0.0.1@evil.example"),
            Some("http://localhost.evil.example"),
            Some("http://10.0.0.5:4566"),
            Some(""),
        ] {
            assert!(!is_local_endpoint(remote), "{remote:?}");
        }
    }
}
