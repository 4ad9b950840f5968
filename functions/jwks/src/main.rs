//! `GET /.well-known/jwks.json` — wiring only. The key set is fetched from KMS once per cold
//! start; every request is answered from memory.

use lambda_http::{run, service_fn, Error, Request};
use tokengate_handlers::{jwks, telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let keys = wiring::jwks().await?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("jwks", request_id, async {
            Ok::<_, Error>(jwks::response(&keys))
        })
    }))
    .await
}
