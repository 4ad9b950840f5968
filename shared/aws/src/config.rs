//! The SDK configuration every function loads once at cold start.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_types::service_config::ServiceConfigKey;

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

/// A revoking write's total time, retries included: the authorizers re-read the revocation
/// feed from 5 s before their cursor, which covers a writer whose entry (stamped with the
/// time it was built) commits up to this late, plus ±1.5 s of clock skew on each side
/// (docs/revocation.md). Past it the write fails (503) rather than commit later.
pub const REVOKING_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt of a revoking write: two fit in [`REVOKING_WRITE_TIMEOUT`] with the back-off.
pub const REVOKING_WRITE_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(900);
/// Attempts of a revoking write (the standard retry mode's throttling and transient errors).
pub const REVOKING_WRITE_ATTEMPTS: u32 = 2;

/// The per-operation override every revoking write (a transaction that appends to the
/// revocation feed) is sent with: at most [`REVOKING_WRITE_ATTEMPTS`] attempts of
/// [`REVOKING_WRITE_ATTEMPT_TIMEOUT`] each, [`REVOKING_WRITE_TIMEOUT`] in all, whatever the
/// client was built with (the functions' 3 attempts within 5 s, a test's longer attempts).
pub fn revoking_write_override() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(REVOKING_WRITE_ATTEMPT_TIMEOUT)
                .operation_timeout(REVOKING_WRITE_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(REVOKING_WRITE_ATTEMPTS))
}

/// The endpoint URL the DynamoDB client built by [`dynamodb_client`] talks to, resolved as
/// `aws-sdk-dynamodb` resolves it from an [`SdkConfig`] (its `config::Builder::from`): one set
/// in code wins; otherwise the service-specific setting (`AWS_ENDPOINT_URL_DYNAMODB`, or
/// `endpoint_url` in the profile's `services` section), then the global one (`AWS_ENDPOINT_URL`,
/// or the profile's `endpoint_url`). With `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, aws-config
/// loads neither (AWS SDKs and Tools Reference Guide, "Service-specific endpoints"). `None`:
/// the SDK's own endpoint for the region — real AWS.
pub fn dynamodb_endpoint_url(sdk: &SdkConfig) -> Option<String> {
    let global = sdk.endpoint_url().map(str::to_owned);
    if sdk.get_origin("endpoint_url").is_client_config() {
        return global;
    }
    let key = ServiceConfigKey::builder()
        .service_id("DynamoDB")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk.service_config()
        .and_then(|services| services.load_config(key))
        .or(global)
}

/// The DynamoDB client, on the endpoint [`dynamodb_endpoint_url`] names: whoever checks where
/// the client talks to (the admin CLI's `seed-demo` guard) reads the same answer it was built
/// with.
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(sdk);
    config.set_endpoint_url(dynamodb_endpoint_url(sdk));
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_types::service_config::LoadServiceConfig;

    use super::*;

    /// Service-specific settings as aws-config's environment loader answers them.
    #[derive(Debug)]
    struct Services(HashMap<String, String>);

    impl LoadServiceConfig for Services {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            let name = format!("{}_{}", key.env(), key.service_id().to_uppercase());
            self.0.get(&name).cloned()
        }
    }

    fn sdk(global: Option<&str>, dynamodb: Option<&str>) -> SdkConfig {
        let services = dynamodb.map(|url| {
            let name = "AWS_ENDPOINT_URL_DYNAMODB".to_owned();
            Services(HashMap::from([(name, url.to_owned())]))
        });
        let mut builder = SdkConfig::builder().behavior_version(BehaviorVersion::latest());
        builder.set_endpoint_url(global.map(str::to_owned));
        if let Some(services) = services {
            builder = builder.service_config(services);
        }
        builder.build()
    }

    #[test]
    fn the_dynamodb_endpoint_prefers_the_service_setting_over_the_global_one() {
        let both = sdk(
            Some("http://127.0.0.1:4566"),
            Some("https://db.example.com"),
        );
        assert_eq!(
            dynamodb_endpoint_url(&both).as_deref(),
            Some("https://db.example.com")
        );
        let global = sdk(Some("http://127.0.0.1:4566"), None);
        assert_eq!(
            dynamodb_endpoint_url(&global).as_deref(),
            Some("http://127.0.0.1:4566")
        );
        assert_eq!(dynamodb_endpoint_url(&sdk(None, None)), None);
    }
}
