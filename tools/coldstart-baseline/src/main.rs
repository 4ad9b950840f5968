//! `coldstart-baseline`: the least a tokengate function could be. It loads the AWS SDK
//! configuration, builds the same DynamoDB and KMS clients the functions build, and hands a
//! trivial echo handler to `lambda_runtime::run`: no config parsing, no logging, no AWS call.
//!
//! Why: `make bench` (`scripts/bench/coldstart.py`) starts every function's release binary
//! and this one, interleaved in the same run, against a fake Lambda Runtime API, and reports
//! init time (exec to the first `GET /runtime/invocation/next`), peak memory and binary/zip
//! size as ratios to this binary. A ratio says what tokengate's own code costs on top of what
//! any Rust Lambda function using these clients pays anyway. It is never deployed.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clients = (
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_kms::Client::new(&sdk),
    );
    run(service_fn(|event: LambdaEvent<Value>| {
        // Held for the life of the process, as a function holds its clients.
        let _clients = &clients;
        async move { Ok::<Value, Error>(event.payload) }
    }))
    .await
}
