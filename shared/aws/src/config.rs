//! The SDK configuration every function loads once at cold start.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the AWS configuration from the environment (region, credentials, and
/// `AWS_ENDPOINT_URL`, which points the SDK at the local emulator).
///
/// Timeouts are short: a Lambda behind API Gateway has 29 s in all, and a hung call should
/// become a quick 503 with `Retry-After`, not a gateway timeout. The standard retry mode
/// retries throttling with back-off up to 3 attempts.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}
