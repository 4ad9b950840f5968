//! `coldstart-baseline`: the least a tokengate function could be. It loads the AWS SDK
//! configuration, builds the same DynamoDB and KMS clients the functions build, and hands
//! `lambda_runtime::run` a handler that can make one call with each: no config parsing, no
//! logging, and no AWS call at init.
//!
//! Why: `make bench` (`scripts/bench/coldstart.py`) starts every function's release binary
//! and this one, interleaved in the same run, against a fake Lambda Runtime API, and reports
//! init time (exec to the first `GET /runtime/invocation/next`), peak memory and binary/zip
//! size as ratios to this binary. A ratio says what tokengate's own code costs on top of what
//! any Rust Lambda function using these clients pays anyway. It is never deployed.
//!
//! The handler's two calls (a DynamoDB `GetItem`, a KMS `Sign`) are never made by the bench.
//! They are there so that the binary holds what any function that *uses* the clients carries —
//! request signing, retries, endpoint resolution, the HTTP client, one operation's
//! serializers per service. A baseline that only built the clients would let link-time
//! optimisation drop all of that, and the size ratio would measure the SDK, not tokengate.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::SigningAlgorithmSpec;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let kms = aws_sdk_kms::Client::new(&sdk);
    run(service_fn(|event: LambdaEvent<Value>| {
        let (dynamodb, kms) = (&dynamodb, &kms);
        async move {
            let arg = |name: &str| event.payload[name].as_str().unwrap_or_default().to_owned();
            match event.payload["call"].as_str() {
                Some("get_item") => {
                    let out = dynamodb
                        .get_item()
                        .table_name(arg("table"))
                        .key("pk", AttributeValue::S(arg("pk")))
                        .send()
                        .await?;
                    Ok(json!({ "found": out.item.is_some() }))
                }
                Some("sign") => {
                    let out = kms
                        .sign()
                        .key_id(arg("key"))
                        .message(Blob::new(arg("message")))
                        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
                        .send()
                        .await?;
                    Ok(json!({ "signature_bytes": out.signature.map_or(0, |s| s.as_ref().len()) }))
                }
                _ => Ok::<Value, Error>(event.payload),
            }
        }
    }))
    .await
}
