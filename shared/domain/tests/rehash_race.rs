//! The rehash race at login, on the memory rig: a login reads the user, a password change
//! commits before the login's re-hash of the *old* password is written. The change wins. This
//! binary holds one test: it captures the log lines of its own thread (`set_default`), and a
//! callsite first reached by another test's thread could keep a cached interest.

use std::sync::Arc;
use tokengate_testing::logs::CapturedLogs;

use async_trait::async_trait;
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::password::HashParams;
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::{ErrorCode, Password, PasswordHasher, PortResult, Username};
use tokengate_testing::memory::{MemoryBackend, MemoryRig};

const NEW_PASSWORD: &str = "a new password nobody else knows";

/// The twin, with a password change committing between the login's read of the user and its
/// re-hash write — the moment the race needs.
struct ChangeBeforeRehash {
    inner: Arc<MemoryBackend>,
    new_hash: String,
}

#[async_trait]
impl UserStore for ChangeBeforeRehash {
    async fn find_user(&self, username: &Username) -> PortResult<Option<User>> {
        self.inner.find_user(username).await
    }
    async fn create_user(&self, user: &User) -> PortResult<bool> {
        self.inner.create_user(user).await
    }
    async fn upgrade_password_hash(&self, read: &User, hash: &str) -> PortResult<bool> {
        let changed = self
            .inner
            .change_password(&read.username, &self.new_hash, read.token_version)
            .await?;
        assert!(changed.is_some(), "the password change commits");
        self.inner.upgrade_password_hash(read, hash).await
    }
    async fn set_roles(&self, username: &Username, roles: &[String]) -> PortResult<Option<u64>> {
        self.inner.set_roles(username, roles).await
    }
    async fn set_status(&self, username: &Username, status: UserStatus) -> PortResult<Option<u64>> {
        self.inner.set_status(username, status).await
    }
    async fn sign_out_everywhere(&self, user_id: &str) -> PortResult<Option<u64>> {
        self.inner.sign_out_everywhere(user_id).await
    }
    async fn change_password(
        &self,
        username: &Username,
        hash: &str,
        expected_version: u64,
    ) -> PortResult<Option<u64>> {
        self.inner
            .change_password(username, hash, expected_version)
            .await
    }
    async fn find_username(&self, user_id: &str) -> PortResult<Option<Username>> {
        self.inner.find_username(user_id).await
    }
    async fn sign_out_everywhere_from(
        &self,
        user_id: &str,
        token_version: u64,
    ) -> PortResult<Option<u64>> {
        self.inner
            .sign_out_everywhere_from(user_id, token_version)
            .await
    }
}

fn attempt(password: &str) -> LoginAttempt {
    LoginAttempt {
        ask: Default::default(),
        username: "alice".into(),
        password: Password::new(password),
        source_ip: "203.0.113.7".into(),
        device: None,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_rehash_at_login_never_overwrites_a_password_change_made_meanwhile() {
    let captured = CapturedLogs::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut app = MemoryRig::new().await;
    // Login's hasher asks for more memory than alice's stored hash: it re-hashes.
    let stronger = PasswordHasher::new(HashParams {
        memory_kib: 2048,
        iterations: 2,
        parallelism: 1,
    })
    .unwrap();
    let new_hash = stronger.hash(&Password::new(NEW_PASSWORD)).unwrap();
    app.login.hasher = Arc::new(stronger);
    app.login.users = Arc::new(ChangeBeforeRehash {
        inner: app.store.clone(),
        new_hash: new_hash.clone(),
    });

    // The old password was right when the login read the user: the login itself succeeds.
    app.login
        .login(attempt(MemoryRig::PASSWORD))
        .await
        .expect("the login that read the old password succeeds");

    let alice = app
        .store
        .find_user(&Username::parse("alice").unwrap())
        .await;
    let alice = alice.unwrap().expect("alice exists");
    assert_eq!(alice.password_hash, new_hash, "the change's hash stays");
    assert_eq!(alice.token_version, 2, "the change's version stays");
    let old = app.login.login(attempt(MemoryRig::PASSWORD)).await;
    assert_eq!(old.unwrap_err().code, ErrorCode::InvalidCredentials);
    app.login
        .login(attempt(NEW_PASSWORD))
        .await
        .expect("the new password logs in");
    let text = captured.text();
    assert!(
        text.contains("password_rehash_skipped_user_changed"),
        "the skipped re-hash is logged: {text}"
    );
    assert!(!text.contains("\"password_rehashed\""), "{text}");
}
