//! Tokens signed through KMS on the emulator, with the key the keyring names, verify with the
//! claims crate against the public key the keyring stored, for ES256 and RS256.

use std::sync::Arc;

use tokengate_aws::{fetch_public_key, DynamoStore, KmsSigner};
use tokengate_claims::{Algorithm, Validation, Verifier, VerifyError, VerifyingKey};
use tokengate_domain::issuer::Subject;
use tokengate_domain::keyring::{change_keyring, LiveKeyring};
use tokengate_domain::{AccessTokenIssuer, AuthConfig, Clock, SystemClock};
use tokengate_tests::Emulator;

async fn sign_and_verify(alg: Algorithm) {
    let emulator = Emulator::start().await;
    let sdk = emulator.sdk_config().await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let now = SystemClock.now();
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        emulator.tables().await,
        tokengate_domain::revocation_feed::FeedLife::default(),
        Arc::new(SystemClock),
    ));
    let key_id = tokengate_aws::bootstrap::create_signing_key(&kms, alg, "tests")
        .await
        .unwrap();
    let key = fetch_public_key(&kms, &key_id).await.unwrap();
    assert_eq!((key.kid.as_str(), key.alg), (key_id.as_str(), alg));
    assert!(
        key.key_arn.ends_with(&format!(":key/{key_id}")),
        "{}",
        key.key_arn
    );
    change_keyring(&*store, |ring| ring.adopt(key.clone(), now))
        .await
        .unwrap();
    let validation = Validation::new("iss", vec!["aud".to_owned()]);
    let keyring = Arc::new(
        LiveKeyring::load(store, Arc::new(SystemClock), &AuthConfig::new("iss", "aud")).await,
    );
    let issuer = AccessTokenIssuer::new(
        Arc::new(KmsSigner::new(kms.clone())),
        keyring.clone(),
        "iss",
        "aud",
        900,
    );
    let token = issuer
        .issue(
            Subject {
                user_id: "u-1",
                roles: &["reader".to_owned()],
                token_version: 3,
                sid: "s-1",
                grant: &Default::default(),
            },
            now,
        )
        .await
        .unwrap();
    let verifier = Verifier::new(
        [VerifyingKey::from_spki_der(key.kid.clone(), alg, &key.public_key).unwrap()],
        validation,
    );
    let trusted: Vec<String> = keyring
        .keys()
        .await
        .verifier()
        .jwks()
        .keys
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(
        trusted,
        [key_id.as_str()],
        "the keyring's trusted set is the key"
    );
    let claims = verifier.verify(&token.token, now).unwrap();
    assert_eq!(claims.sub, "u-1");
    assert_eq!(claims.ver, 3);
    assert_eq!(claims.jti, token.jti);

    let (head, sig) = token.token.rsplit_once('.').unwrap();
    let mut tampered: Vec<char> = sig.chars().collect();
    tampered[5] = if tampered[5] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{head}.{}", tampered.into_iter().collect::<String>());
    assert_eq!(
        verifier.verify(&tampered, now),
        Err(VerifyError::InvalidSignature)
    );
}

#[tokio::test]
async fn es256_token_signed_by_kms_verifies() {
    sign_and_verify(Algorithm::ES256).await;
}

#[tokio::test]
async fn rs256_token_signed_by_kms_verifies() {
    sign_and_verify(Algorithm::RS256).await;
}
