//! Hostile tokens with genuine signatures: any header and claims, signed by the stack's own
//! KMS signing key on the emulator (what an attacker with a signing oracle — or a bug in our
//! own issuer — could produce), plus the byte-level edits of the JWT attack literature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use std::path::Path;
use tokengate_aws::{DynamoStore, KmsSigner};
use tokengate_domain::keyring::KeyringKey;
use tokengate_domain::ports::{KeyringStore, TokenSigner};
use tokengate_tests::Emulator;

/// Signs arbitrary JWS headers and payloads with the stack's KMS signing key.
pub struct Forge {
    signer: KmsSigner,
    key: KeyringKey,
}

impl Forge {
    /// Connects to the emulator named in the stack's env file (`<state>/env`, the functions'
    /// settings) and takes the keyring's current key.
    pub async fn connect(state: &Path) -> Self {
        Self::connect_with(state, None).await
    }

    /// As [`Forge::connect`], with the keyring's key `kid` (any state) when given.
    pub async fn connect_with(state: &Path, kid: Option<&str>) -> Self {
        let env = std::fs::read_to_string(state.join("env")).expect("the stack's env file");
        let var = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} in the env file"))
                .trim_matches('"')
                .to_owned()
        };
        let sdk = Emulator::sdk_config_for(&var("AWS_ENDPOINT_URL")).await;
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            tokengate_aws::Tables {
                main: var("TOKENGATE_TABLE"),
                feed: var("TOKENGATE_FEED_TABLE"),
            },
            tokengate_domain::revocation_feed::FeedLife::default(),
            std::sync::Arc::new(tokengate_domain::SystemClock),
        );
        let ring = store.read_keyring().await.expect("the keyring reads");
        let key = match kid {
            Some(kid) => ring.keys().iter().find(|k| k.kid == kid),
            None => ring.current(),
        };
        let key = key.expect("the signing key is in the keyring").clone();
        let signer = KmsSigner::new(aws_sdk_kms::Client::new(&sdk));
        Self { signer, key }
    }

    /// The `kid` of the genuine key.
    pub fn kid(&self) -> &str {
        &self.key.kid
    }

    /// A compact JWS of exactly these header and payload texts (duplicate keys and all).
    pub async fn sign_raw(&self, header: &str, payload: &str) -> String {
        let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let sig = self
            .signer
            .sign(&self.key, input.as_bytes())
            .await
            .expect("KMS signs");
        format!("{input}.{}", B64.encode(sig))
    }

    /// A compact JWS of these JSON values.
    pub async fn sign(&self, header: &Value, payload: &Value) -> String {
        self.sign_raw(&header.to_string(), &payload.to_string())
            .await
    }
}

/// The three parts of a compact token.
pub fn parts(token: &str) -> [&str; 3] {
    let mut it = token.split('.');
    let p = [it.next(), it.next(), it.next()];
    assert!(it.next().is_none(), "compact JWS");
    p.map(|s| s.expect("three parts"))
}

/// Decodes the header (0) or payload (1) of a token.
pub fn decode(token: &str, part: usize) -> Value {
    serde_json::from_slice(&B64.decode(parts(token)[part]).unwrap()).unwrap()
}

/// `s` as base64url.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    B64.encode(bytes)
}

/// The raw signature bytes of a token.
pub fn signature(token: &str) -> Vec<u8> {
    B64.decode(parts(token)[2]).unwrap()
}

/// The token with another signature.
pub fn with_signature(token: &str, sig: &[u8]) -> String {
    let [h, p, _] = parts(token);
    format!("{h}.{p}.{}", B64.encode(sig))
}

/// An ECDSA (r, s) as DER, the form KMS returns and JWS forbids.
pub fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        let mut out = vec![0x02];
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        out.push((v.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend(v);
        out
    }
    let body = [int(r), int(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}
