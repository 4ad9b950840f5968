//! Transactions and how their failures are classified: a cancellation because a condition
//! failed is an answer (the caller's `WriteOutcome`); a cancellation for any other reason and
//! every other failure go through [`crate::errors::classify`].

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use tokengate_domain::{PortError, PortResult};

use super::DynamoStore;
use crate::errors::{classify, service_code};

/// Which items of a cancelled transaction failed their condition, in request order; `None`
/// when the service gave no per-item reasons.
pub(super) type FailedConditions = Option<Vec<bool>>;

fn cancelled_items(err: &SdkError<TransactWriteItemsError, HttpResponse>) -> FailedConditions {
    let SdkError::ServiceError(se) = err else {
        return None;
    };
    let TransactWriteItemsError::TransactionCanceledException(tc) = se.err() else {
        return None;
    };
    let reasons = tc.cancellation_reasons();
    if reasons.is_empty() {
        return None;
    }
    Some(
        reasons
            .iter()
            .map(|r| r.code() == Some("ConditionalCheckFailed"))
            .collect(),
    )
}

/// The error for a request the SDK's builder refused (a missing required field: a bug here).
pub(super) fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> PortError {
    PortError::Unexpected(anyhow::Error::new(e).context("failed to build a DynamoDB request"))
}

impl DynamoStore {
    /// Runs `items` as one transaction: `Ok(Ok(()))` when written, `Ok(Err(failed))` when a
    /// condition failed, `Err` for everything else.
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        op: &'static str,
    ) -> PortResult<Result<(), FailedConditions>> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(e) if service_code(&e) == Some("TransactionCanceledException") => {
                let failed = cancelled_items(&e);
                if failed.is_none() || failed.as_ref().is_some_and(|f| f.iter().any(|x| *x)) {
                    Ok(Err(failed))
                } else {
                    // Cancelled for another reason (`TransactionConflict` with a concurrent
                    // transaction on the same item): not an answer about our conditions.
                    Err(classify(e, op))
                }
            }
            Err(e) => Err(classify(e, op)),
        }
    }
}
