//! Hostile tokens with genuine signatures: any header and claims, signed by the stack's own
//! KMS signing key on the emulator (what an attacker with a signing oracle — or a bug in our
//! own issuer — could produce), plus the byte-level edits of the JWT attack literature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use tokengate_aws::KmsSigner;
use tokengate_domain::ports::TokenSigner;
use tokengate_tests::Emulator;

/// Signs arbitrary JWS headers and payloads with the stack's KMS signing key.
pub struct Forge {
    signer: KmsSigner,
}

impl Forge {
    /// Connects to the emulator at `url` and the stack's signing key (its alias).
    pub async fn connect(url: &str) -> Self {
        let sdk = Emulator::sdk_config_for(url).await;
        let signer = KmsSigner::connect(
            aws_sdk_kms::Client::new(&sdk),
            tokengate_aws::bootstrap::SIGNING_ALIAS,
        )
        .await
        .expect("the signing key resolves");
        Self { signer }
    }

    /// The `kid` of the genuine key.
    pub fn kid(&self) -> &str {
        self.signer.kid()
    }

    /// A compact JWS of exactly these header and payload texts (duplicate keys and all).
    pub async fn sign_raw(&self, header: &str, payload: &str) -> String {
        let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let sig = self.signer.sign(input.as_bytes()).await.expect("KMS signs");
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
