//! `POST /auth/refresh` — wiring only.

use lambda_http::{run, service_fn, Error, Request};
use tokengate_handlers::{refresh, telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let refresh = wiring::refresh().await?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("refresh", request_id, refresh::handle(&refresh, req))
    }))
    .await
}
