//! The one place AWS errors are classified into [`PortError`]s.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use tokengate_domain::PortError;

/// Error codes that mean "try again later" (throttling, capacity, transient service faults).
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
];

/// Whether an SDK error is transient.
pub fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(se) => {
            TRANSIENT_CODES.contains(&se.err().code().unwrap_or(""))
                || se.raw().status().is_server_error()
        }
        _ => false,
    }
}

/// Classifies an SDK error of operation `op` ("read session", …).
pub fn classify<E>(err: SdkError<E, HttpResponse>, op: &'static str) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = is_transient(&err);
    let code = err.code().unwrap_or("").to_owned();
    let cause = anyhow::Error::new(err).context(format!("failed to {op} ({code})"));
    if transient {
        PortError::Unavailable(cause)
    } else {
        PortError::Unexpected(cause)
    }
}

/// The service error code of an SDK error, if it is a service error.
pub fn service_code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    match err {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}
