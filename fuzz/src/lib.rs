//! What the fuzz targets share: one in-memory tokengate (the same twins the unit tests use),
//! built once per fuzzing process, and the oracles every target checks.

use std::sync::OnceLock;

use tokengate_domain::memory::MemoryRig;
use tokengate_handlers::authorizer::Authorizer;

/// The rig, the authorizer over it, and one genuine token of each kind.
pub struct Harness {
    /// Runs the async handlers; current-thread so a run is one deterministic sequence.
    pub runtime: tokio::runtime::Runtime,
    /// Login, refresh, logout and their stores.
    pub rig: MemoryRig,
    /// The authorizer trusting the rig's signer.
    pub authorizer: Authorizer,
    /// A valid access token for `alice`.
    pub access_token: String,
    /// A valid refresh token of `alice`'s session (it rotates as inputs use it).
    pub refresh_token: String,
}

/// The harness, built on first use.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (rig, grant) = runtime.block_on(async {
            let rig = MemoryRig::new().await;
            let grant = rig.login_alice().await;
            (rig, grant)
        });
        let authorizer = Authorizer::on_memory_rig(&rig, "GET /api/me=; * /api/admin/*=admin");
        Harness {
            runtime,
            access_token: grant.access.token,
            refresh_token: grant.refresh.expose(),
            rig,
            authorizer,
        }
    })
}

/// Every stable error code of DESIGN.md; a response may carry no other.
pub const ERROR_CODES: &[&str] = &[
    "invalid_request",
    "payload_too_large",
    "invalid_credentials",
    "account_locked",
    "rate_limited",
    "invalid_refresh_token",
    "refresh_token_reused",
    "session_expired",
    "csrf_rejected",
    "service_unavailable",
];

/// Replaces the placeholders `ACCESS_TOKEN` / `REFRESH_TOKEN` (as in `events/`) with genuine
/// tokens, so that mutations of a seed reach the code behind a valid token.
pub fn fill_placeholders(text: &str) -> String {
    let h = harness();
    text.replace("ACCESS_TOKEN", &h.access_token)
        .replace("REFRESH_TOKEN", &h.refresh_token)
}
