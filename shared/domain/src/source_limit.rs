//! The per-source-network limit on refresh and logout: a fixed window of requests per source
//! network (`TOKENGATE_REFRESH_IP_LIMIT` per `TOKENGATE_REFRESH_IP_WINDOW_SECONDS`), counted on
//! API Gateway's `sourceIp` — never `X-Forwarded-For`, which the caller writes. Made-up tokens
//! already cost no KMS request; this bounds what one network can make the table and a stolen
//! token's KMS requests cost, without touching other networks.

use crate::config::AuthConfig;
use crate::error::{AuthError, ErrorCode};
use crate::network::source_network;
use crate::ports::{RateLimiter, Window};

/// Counts one `operation` request from the network of `source_ip` and refuses it with 429 and
/// `Retry-After` (the rest of the window) once the network is over the limit. Refresh and
/// logout count apart, so a burst of one does not refuse the other.
pub(crate) async fn admit(
    rate: &dyn RateLimiter,
    config: &AuthConfig,
    operation: &'static str,
    source_ip: &str,
    now: i64,
) -> Result<(), AuthError> {
    let len = config.refresh_ip_window_secs;
    let start = now - now.rem_euclid(len);
    let window = Window {
        start,
        end: start + len,
    };
    let network = source_network(source_ip);
    let hits = rate
        .count_hit(&format!("{operation}-net#{network}"), window)
        .await?;
    if hits > config.refresh_ip_limit {
        // Logged once per window, not per refused request: a flood must not flood the log too.
        if hits == config.refresh_ip_limit + 1 {
            tracing::warn!(event = "source_rate_limited", operation, network = %network);
        }
        return Err(AuthError::retry_after(
            ErrorCode::RateLimited,
            window.end - now,
        ));
    }
    Ok(())
}
