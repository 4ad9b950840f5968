//! Tokens signed through KMS on the emulator verify with the claims crate, for ES256 and RS256.

use std::sync::Arc;

use tokengate_aws::{load_verifying_keys, KmsSigner};
use tokengate_claims::{Algorithm, Validation, Verifier, VerifyError};
use tokengate_domain::issuer::Subject;
use tokengate_domain::ports::TokenSigner;
use tokengate_domain::{AccessTokenIssuer, Clock, SystemClock};
use tokengate_tests::Emulator;

async fn sign_and_verify(alg: Algorithm) {
    let emulator = Emulator::start().await;
    let sdk = emulator.sdk_config().await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key_id = tokengate_aws::bootstrap::create_signing_key(&kms, alg)
        .await
        .unwrap();
    let signer = KmsSigner::connect(kms.clone(), &key_id).await.unwrap();
    assert_eq!(signer.alg(), alg);
    assert_eq!(signer.kid(), key_id);
    let issuer = AccessTokenIssuer::new(Arc::new(signer), "iss", "aud", 900);
    let now = SystemClock.now();
    let token = issuer
        .issue(
            Subject {
                user_id: "u-1",
                roles: &["reader".to_owned()],
                token_version: 3,
                sid: "s-1",
            },
            now,
        )
        .await
        .unwrap();
    let keys = load_verifying_keys(&kms, std::slice::from_ref(&key_id))
        .await
        .unwrap();
    let verifier = Verifier::new(keys, Validation::new("iss", vec!["aud".to_owned()]));
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
