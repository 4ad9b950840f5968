//! Stable error codes (the contract of DESIGN.md) and the internal error types behind them.
//!
//! The client sees only an [`ErrorCode`]: its status, code and fixed message. The cause, if
//! any, goes to the log and never into a response body.

/// A client-visible error: stable snake_case code, HTTP status and a fixed human message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: malformed JSON, wrong types, missing fields, bad content type.
    InvalidRequest,
    /// 413: body over the 8 KiB limit.
    PayloadTooLarge,
    /// 401: unknown user or wrong password (indistinguishable on purpose).
    InvalidCredentials,
    /// 423: too many failed logins for this account; retry later.
    AccountLocked,
    /// 429: too many attempts from this source; retry later.
    RateLimited,
    /// 401: refresh token unknown, malformed or revoked.
    InvalidRefreshToken,
    /// 401: a spent refresh token was presented; the whole session was revoked.
    RefreshTokenReused,
    /// 401: the session passed its absolute lifetime or idle timeout, or was ended everywhere.
    SessionExpired,
    /// 403: a cookie-carried request failed the CSRF origin check.
    CsrfRejected,
    /// 503: a dependency (KMS, DynamoDB) is throttling or down; retry later.
    ServiceUnavailable,
    /// 400: a new password that is too short, too long, the username, or too guessable.
    WeakPassword,
    /// 400: `client_id` names no registered client (RFC 6749 §5.2 `invalid_client`).
    InvalidClient,
    /// 400: the requested scope is malformed, widens the original grant on refresh, or leaves
    /// nothing the client and the user's roles allow (RFC 6749 §5.2 `invalid_scope`).
    InvalidScope,
    /// 400: `resource` is not one of the client's resource servers (RFC 8707 §2
    /// `invalid_target`).
    InvalidTarget,
    /// 400: the refresh token was issued to another client (RFC 6749 §5.2 `invalid_grant`).
    InvalidGrant,
}

impl ErrorCode {
    /// The stable snake_case code clients match on.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountLocked => "account_locked",
            Self::RateLimited => "rate_limited",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::SessionExpired => "session_expired",
            Self::CsrfRejected => "csrf_rejected",
            Self::ServiceUnavailable => "service_unavailable",
            Self::WeakPassword => "weak_password",
            Self::InvalidClient => "invalid_client",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidGrant => "invalid_grant",
        }
    }

    /// The HTTP status of this error.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::WeakPassword
            | Self::InvalidClient
            | Self::InvalidScope
            | Self::InvalidTarget
            | Self::InvalidGrant => 400,
            Self::PayloadTooLarge => 413,
            Self::InvalidCredentials
            | Self::InvalidRefreshToken
            | Self::RefreshTokenReused
            | Self::SessionExpired => 401,
            Self::CsrfRejected => 403,
            Self::AccountLocked => 423,
            Self::RateLimited => 429,
            Self::ServiceUnavailable => 503,
        }
    }

    /// Fixed human-readable text; never includes request data or internal detail.
    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidRequest => "The request is malformed.",
            Self::PayloadTooLarge => "The request body is larger than 8 KiB.",
            Self::InvalidCredentials => "The username or password is incorrect.",
            Self::AccountLocked => "Too many failed sign-in attempts. Try again later.",
            Self::RateLimited => "Too many requests. Try again later.",
            Self::InvalidRefreshToken => "The refresh token is invalid.",
            Self::RefreshTokenReused => {
                "The refresh token was already used; the session has been ended."
            }
            Self::SessionExpired => "The session has expired. Sign in again.",
            Self::CsrfRejected => "The request origin is not allowed.",
            Self::ServiceUnavailable => "The service is temporarily unavailable. Try again later.",
            Self::WeakPassword => {
                "The new password is too weak: use 8 to 128 characters that are hard to guess."
            }
            Self::InvalidClient => "The client is not registered.",
            Self::InvalidScope => "The requested scope is invalid or not allowed.",
            Self::InvalidTarget => "The requested resource is not allowed for this client.",
            Self::InvalidGrant => "The refresh token was issued to another client.",
        }
    }
}

/// The outcome of a failed operation: what the client is told, plus an optional
/// `Retry-After` in seconds (429, 423, 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthError {
    /// What the client sees.
    pub code: ErrorCode,
    /// Seconds for the `Retry-After` header, if any.
    pub retry_after: Option<u64>,
}

impl AuthError {
    /// An error without `Retry-After`.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            retry_after: None,
        }
    }
    /// An error with `Retry-After: secs` (at least 1).
    pub fn retry_after(code: ErrorCode, secs: i64) -> Self {
        Self {
            code,
            retry_after: Some(secs.max(1) as u64),
        }
    }
}

impl From<ErrorCode> for AuthError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

/// Seconds a client should wait after a dependency failure.
pub const UNAVAILABLE_RETRY_AFTER_SECS: i64 = 2;

impl From<PortError> for AuthError {
    /// Every dependency failure is a 503 to the client; the cause is logged here, once.
    fn from(err: PortError) -> Self {
        match &err {
            PortError::Unavailable(cause) => {
                tracing::warn!(event = "dependency_unavailable", error = %format!("{cause:#}"))
            }
            PortError::Unexpected(cause) => {
                tracing::error!(event = "dependency_error", error = %format!("{cause:#}"))
            }
        }
        AuthError::retry_after(ErrorCode::ServiceUnavailable, UNAVAILABLE_RETRY_AFTER_SECS)
    }
}

/// Failure of a port (store, signer, MAC). Adapters classify AWS errors into these.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Throttling, timeouts, 5xx, dropped connections: retrying later may work.
    #[error("dependency unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// Anything else (misconfiguration, access denied, corrupt item).
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

/// Result of a port call.
pub type PortResult<T> = Result<T, PortError>;
