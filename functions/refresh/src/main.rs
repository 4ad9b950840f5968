//! `POST /auth/refresh` — wiring only.

use lambda_http::{run, service_fn, Error};
use tokengate_handlers::{refresh, telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let refresh = wiring::refresh().await?;
    run(service_fn(|req| refresh::handle(&refresh, req))).await
}
