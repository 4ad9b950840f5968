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
        self.transact_capped(items, op, false).await
    }

    /// [`Self::transact`]; `revoking` caps its time as every revoking write's
    /// ([`crate::config::revoking_write_override`]).
    pub(super) async fn transact_capped(
        &self,
        items: Vec<TransactWriteItem>,
        op: &'static str,
        revoking: bool,
    ) -> PortResult<Result<(), FailedConditions>> {
        let mut request = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .customize();
        if revoking {
            request = request.config_override(crate::config::revoking_write_override());
        }
        match request.send().await {
            Ok(_) => Ok(Ok(())),
            Err(e) if service_code(&e) == Some("TransactionCanceledException") => {
                let failed = cancelled_items(&e);
                if failed.is_none() || failed.as_ref().is_some_and(|f| f.iter().any(|x| *x)) {
                    Ok(Err(failed))
                } else {
                    // Cancelled for another reason (`TransactionConflict` with a concurrent
                    // transaction on the same item, e.g. two logouts of one token at once;
                    // `ThrottlingError`): not an answer about our conditions, and a retry
                    // may go through — transient, so the caller answers 503, never 500.
                    Err(PortError::Unavailable(
                        anyhow::Error::new(e).context(format!("failed to {op} (cancelled)")),
                    ))
                }
            }
            Err(e) => Err(classify(e, op)),
        }
    }

    /// Runs `items`, whose conditions pin what the caller read, as one transaction: `Ok(true)`
    /// when written; `Ok(false)` when nothing was written because an item moved on — a
    /// condition failed, or a concurrent transaction held one of the items
    /// (`TransactionConflict`, which DynamoDB answers even to writes that would commute) — so
    /// the caller may read again and retry; `Err` for everything else.
    pub(super) async fn transact_if_unchanged(
        &self,
        items: Vec<TransactWriteItem>,
        op: &'static str,
    ) -> PortResult<bool> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if moved_on(&e) => Ok(false),
            Err(e) => Err(classify(e, op)),
        }
    }
}

/// A cancellation in which every item either passed, failed its condition or met a concurrent
/// transaction (no reasons at all counts too: the emulator may give none).
fn moved_on(err: &SdkError<TransactWriteItemsError, HttpResponse>) -> bool {
    let SdkError::ServiceError(se) = err else {
        return false;
    };
    let TransactWriteItemsError::TransactionCanceledException(tc) = se.err() else {
        return false;
    };
    tc.cancellation_reasons().iter().all(|r| {
        matches!(
            r.code(),
            None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict")
        )
    })
}
