//! The authorizer's warm CPU path against a bare aws-lc-rs verification of the same
//! signature, in the same run (ratios, not absolute times, are what `make bench` reports).
//! Also writes the tokens and public keys to `target/bench/tokens.json` so the peer
//! comparison (Node.js `jsonwebtoken` and `jose`) verifies exactly the same tokens.

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, ParsedPublicKey, RsaKeyPair, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::json;
use tokengate_claims::{assemble, signing_input, AccessClaims, Algorithm, Header};
use tokengate_domain::keyring::{change_keyring, LiveKeyring, NewKey};
use tokengate_domain::login::LoginAttempt;
use tokengate_domain::policy::RoutePolicy;
use tokengate_domain::ports::{User, UserStatus, UserStore};
use tokengate_domain::{
    Adapters, AuthConfig, Clock, Config, ManualClock, Password, PasswordHasher, Username,
};
use tokengate_handlers::app::App;
use tokengate_handlers::authorizer::Authorizer;
use tokengate_testing::memory::{MemoryBackend, MemoryRig};

const NOW: i64 = 1_800_000_000;

struct Case {
    token: String,
    raw_key: ParsedPublicKey,
    message: Vec<u8>,
    signature: Vec<u8>,
    spki: Vec<u8>,
}

fn claims() -> AccessClaims {
    AccessClaims {
        iss: "https://auth.bench".into(),
        aud: "api".into(),
        sub: "u-bench".into(),
        client_id: Some("web".into()),
        exp: NOW + 900,
        iat: NOW,
        nbf: NOW,
        jti: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        roles: vec!["reader".into()],
        ver: 1,
        scope: None,
        sid: Some("s-bench".into()),
    }
}

fn case(alg: Algorithm) -> Case {
    let header = Header {
        alg,
        typ: "at+jwt".into(),
        kid: format!("{}-key", alg.as_str()),
    };
    let input = signing_input(&header, &claims());
    let rng = SystemRandom::new();
    let (signature, spki, verification): (
        Vec<u8>,
        Vec<u8>,
        &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    ) = match alg {
        Algorithm::ES256 => {
            let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let sig = k.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec();
            (
                sig,
                k.public_key().as_der().unwrap().as_ref().to_vec(),
                &ECDSA_P256_SHA256_FIXED,
            )
        }
        Algorithm::RS256 => {
            let k = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
            let mut sig = vec![0; k.public_modulus_len()];
            k.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
                .unwrap();
            (
                sig,
                k.public_key().as_der().unwrap().as_ref().to_vec(),
                &RSA_PKCS1_2048_8192_SHA256,
            )
        }
    };
    Case {
        token: assemble(&input, &signature),
        raw_key: ParsedPublicKey::new(verification, &spki).unwrap(),
        message: input.into_bytes(),
        signature,
        spki,
    }
}

/// The authorizer over a keyring holding both keys (ES256 current, RS256 next): what the
/// deployed authorizer verifies with once it has read the keyring.
async fn authorizer(
    es: &Case,
    rs: &Case,
    store: Arc<MemoryBackend>,
    clock: Arc<ManualClock>,
) -> Authorizer {
    let config = Config {
        auth: AuthConfig::new("https://auth.bench", "api"),
        table: None,
        feed_table: None,
        refresh_mac_key: None,
        route_rules: RoutePolicy::parse("GET /api/me=; * /api/admin/*=admin").unwrap(),
        route_scopes: RoutePolicy::default(),
    };
    let entry = |kid: &str, alg, spki: &[u8]| NewKey {
        kid: kid.to_owned(),
        alg,
        public_key: spki.to_vec(),
        key_arn: format!("arn:aws:kms:us-east-1:123456789012:key/{kid}"),
    };
    let now = clock.now();
    change_keyring(&*store, |ring| {
        ring.adopt(entry("ES256-key", Algorithm::ES256, &es.spki), now)?;
        ring.add_next(entry("RS256-key", Algorithm::RS256, &rs.spki), now)
    })
    .await
    .unwrap();
    let keyring = LiveKeyring::load(store.clone(), clock.clone(), &config.auth).await;
    let adapters = Adapters {
        store: Some(store),
        signer: None,
        mac: None,
        keyring: Some(Arc::new(keyring)),
        clock,
    };
    App::build(config, adapters).authorizer().unwrap()
}

fn token_event(token: &str) -> serde_json::Value {
    json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/api/me",
    })
}

fn export(es: &Case, rs: &Case) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench");
    std::fs::create_dir_all(dir).unwrap();
    let pem = |der: &[u8]| {
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    };
    let doc = json!({
        "now": NOW,
        "es256": { "token": es.token, "public_key_pem": pem(&es.spki) },
        "rs256": { "token": rs.token, "public_key_pem": pem(&rs.spki) },
    });
    std::fs::write(format!("{dir}/tokens.json"), doc.to_string()).unwrap();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let es = case(Algorithm::ES256);
    let rs = case(Algorithm::RS256);
    export(&es, &rs);
    let clock = Arc::new(ManualClock::new(NOW));
    let store = Arc::new(MemoryBackend::new(clock.clone()));
    rt.block_on(store.create_user(&User {
        username: Username::parse("bench").unwrap(),
        user_id: "u-bench".into(),
        password_hash: String::new(),
        roles: vec!["reader".into()],
        status: UserStatus::Active,
        token_version: 1,
    }))
    .unwrap();
    let auth = rt.block_on(authorizer(&es, &rs, store, clock));
    // Sanity: the benchmarked path is the allow path.
    let allowed = rt.block_on(auth.handle(token_event(&es.token))).unwrap();
    assert_eq!(allowed["context"]["sub"], "u-bench");

    let mut g = c.benchmark_group("authorizer");
    for (name, case) in [("es256", &es), ("rs256", &rs)] {
        g.bench_function(format!("raw_verify_{name}"), |b| {
            b.iter(|| {
                case.raw_key
                    .verify_sig(std::hint::black_box(&case.message), &case.signature)
                    .unwrap()
            })
        });
        // The event is the input, built outside the timed routine (in Lambda the runtime
        // parses it before the handler runs); the routine is the decision from that event
        // to the response: token parse, verify, claims, revocation lookup, policy, response.
        g.bench_function(format!("authorize_{name}"), |b| {
            b.to_async(&rt).iter_batched(
                || token_event(&case.token),
                |event| async { auth.handle(event).await.unwrap() },
                BatchSize::SmallInput,
            )
        });
    }
    let garbage = format!("{}.{}", "x".repeat(40), "y".repeat(200));
    g.bench_function("reject_garbage", |b| {
        b.to_async(&rt).iter_batched(
            || token_event(&garbage),
            |event| async { auth.handle(event).await.unwrap_err() },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    // Login at the production Argon2id parameters against one hash at those parameters.
    let mut login_group = c.benchmark_group("login");
    login_group.sample_size(10);
    let rig = rt.block_on(MemoryRig::new());
    let hasher = PasswordHasher::default();
    let stored = hasher.hash(&Password::new("correct horse")).unwrap();
    let mut login = rig.login.clone();
    login.hasher = std::sync::Arc::new(hasher.clone());
    login.config.ip_limit = u64::MAX;
    rt.block_on(async {
        let alice = rig
            .store
            .find_user(&Username::parse("alice").unwrap())
            .await;
        let alice = alice.unwrap().expect("the rig has alice");
        assert!(rig
            .store
            .upgrade_password_hash(&alice, &stored)
            .await
            .unwrap());
    });
    login_group.bench_function("argon2_verify", |b| {
        b.iter(|| assert!(hasher.verify(&Password::new("correct horse"), Some(&stored))))
    });
    login_group.bench_function("login", |b| {
        b.to_async(&rt).iter(|| async {
            login
                .login(LoginAttempt {
                    ask: Default::default(),
                    username: "alice".into(),
                    password: Password::new("correct horse"),
                    source_ip: "192.0.2.1".into(),
                    device: None,
                })
                .await
                .unwrap()
        })
    });
    login_group.finish();
}

criterion_group!(authorizer_benches, benches);
criterion_main!(authorizer_benches);
