//! `GET /api/me` — the demo protected function. It needs no AWS access: the authorizer
//! already did the work and passed the caller on in the request context.

use lambda_http::{run, service_fn, Error, Request};
use tokengate_handlers::{me, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("me", request_id, me::handle(req))
    }))
    .await
}
