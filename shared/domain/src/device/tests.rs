use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::clock::ManualClock;
use crate::ports::UserStatus;
use crate::username::Username;
use crate::{PortError, PortResult};

const T0: i64 = 1_800_000_000;
const TTL: i64 = 90 * 24 * 3600;

/// A MAC that counts its calls and can be made to fail, as KMS can.
#[derive(Default)]
struct FakeMac {
    calls: AtomicUsize,
    down: AtomicBool,
}

#[async_trait]
impl RefreshMac for FakeMac {
    async fn mac(&self, message: &[u8]) -> PortResult<[u8; 32]> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(PortError::Unavailable(anyhow::anyhow!("throttled")));
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"fake kms key");
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&key, message).as_ref());
        Ok(out)
    }
}

fn user(user_id: &str, version: u64) -> User {
    User {
        username: Username::parse("alice").unwrap(),
        user_id: user_id.to_owned(),
        password_hash: String::new(),
        roles: vec![],
        status: UserStatus::Active,
        token_version: version,
    }
}

fn keys() -> (DeviceKeys, Arc<FakeMac>, Arc<ManualClock>) {
    let mac = Arc::new(FakeMac::default());
    let clock = Arc::new(ManualClock::new(T0));
    (DeviceKeys::new(mac.clone(), clock.clone(), TTL), mac, clock)
}

/// Re-MACs `claims` with the right key: what a forger could do only with the key.
fn with_payload(credential: &DeviceCredential, f: impl Fn(&mut DeviceClaims)) -> DeviceCredential {
    let wire = credential.expose();
    let mut claims = parse(wire).unwrap().claims;
    f(&mut claims);
    let payload = B64.encode(serde_json::to_vec(&claims).unwrap());
    let mac = wire.rsplit_once('.').unwrap().1;
    DeviceCredential::new(format!("{PREFIX}{payload}.{mac}"))
}

#[tokio::test]
async fn an_issued_credential_names_its_device_for_its_user_until_it_expires() {
    let (keys, mac, clock) = keys();
    let alice = user("u-alice", 3);

    let issued = keys.issue(&alice).await.expect("issued");

    assert_eq!(issued.max_age, TTL);
    assert!(issued.credential.expose().starts_with("dv1."));
    let did = keys
        .device_of(&issued.credential, &alice)
        .await
        .expect("valid");
    assert_eq!(B64.decode(&did).unwrap().len(), 16);
    let other = keys.issue(&alice).await.unwrap();
    assert_ne!(keys.device_of(&other.credential, &alice).await, Some(did));
    clock.advance(TTL - 1);
    assert!(keys.device_of(&issued.credential, &alice).await.is_some());
    clock.advance(1);
    assert_eq!(
        keys.device_of(&issued.credential, &alice).await,
        None,
        "expired"
    );
    assert_eq!(
        mac.calls.load(Ordering::SeqCst),
        1,
        "one derivation per process"
    );
}

#[tokio::test]
async fn a_device_credential_of_another_account_or_an_older_version_is_no_credential() {
    let (keys, _, _) = keys();
    let issued = keys.issue(&user("u-alice", 3)).await.unwrap().credential;

    assert_eq!(keys.device_of(&issued, &user("u-bob", 3)).await, None);
    assert_eq!(keys.device_of(&issued, &user("u-alice", 4)).await, None);
}

#[tokio::test]
async fn a_tampered_device_credential_is_no_credential() {
    let (keys, _, _) = keys();
    let alice = user("u-alice", 3);
    let issued = keys.issue(&alice).await.unwrap().credential;
    let wire = issued.expose();
    let (signed, mac) = wire.rsplit_once('.').unwrap();
    let flipped = {
        let mut bytes = B64.decode(mac).unwrap();
        bytes[0] ^= 1;
        B64.encode(bytes)
    };

    for forged in [
        format!("{signed}.{flipped}"),
        format!("{signed}."),
        format!("{signed}.{}", &mac[1..]),
        signed.to_owned(),
        wire.replacen("dv1.", "dv2.", 1),
        format!("{wire}.x"),
        with_payload(&issued, |c| c.exp += TTL).expose().to_owned(),
        with_payload(&issued, |c| c.did = random_id())
            .expose()
            .to_owned(),
        with_payload(&issued, |c| c.did = "x#y".into())
            .expose()
            .to_owned(),
        "A".repeat(10_000),
        String::new(),
    ] {
        let forged = DeviceCredential::new(forged);
        assert_eq!(keys.device_of(&forged, &alice).await, None, "{forged:?}");
    }
}

#[tokio::test]
async fn a_credential_that_cannot_count_costs_no_key_derivation() {
    let (keys, mac, _) = keys();
    let alice = user("u-alice", 3);
    let elsewhere = {
        let (other, _, _) = self::keys();
        other.issue(&alice).await.unwrap().credential
    };

    for garbage in [
        DeviceCredential::new("garbage"),
        with_payload(&elsewhere, |c| c.sub = "u-bob".into()),
        with_payload(&elsewhere, |c| c.ver = 2),
    ] {
        assert_eq!(keys.device_of(&garbage, &alice).await, None);
    }

    assert_eq!(mac.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_failed_key_derivation_issues_nothing_and_is_retried_after_an_interval() {
    let (keys, mac, clock) = keys();
    let alice = user("u-alice", 3);
    mac.down.store(true, Ordering::SeqCst);

    assert_eq!(keys.issue(&alice).await, None);
    assert_eq!(keys.issue(&alice).await, None);
    assert_eq!(
        mac.calls.load(Ordering::SeqCst),
        1,
        "not asked again at once"
    );
    mac.down.store(false, Ordering::SeqCst);
    clock.advance(RETRY_DERIVATION_AFTER_SECS);

    assert!(keys.issue(&alice).await.is_some());
    assert_eq!(mac.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn debug_output_never_contains_the_credential_or_the_key() {
    let (keys, _, _) = keys();
    let issued = keys.issue(&user("u-alice", 3)).await.unwrap();
    let text = format!("{issued:?} {keys:?}");
    assert!(!text.contains(issued.credential.expose()));
    let mac = issued
        .credential
        .expose()
        .rsplit_once('.')
        .unwrap()
        .1
        .to_owned();
    assert!(!text.contains(&mac));
    assert!(text.contains("DeviceCredential(..)"));
}
