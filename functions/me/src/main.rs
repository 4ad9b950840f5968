//! `GET /api/me` — the demo protected function. It needs no AWS access: the authorizer
//! already did the work and passed the caller on in the request context. Of the settings it
//! uses only the allowed origins (CORS for the browser demo).

use lambda_http::{run, service_fn, Error, Request};
use tokengate_domain::Config;
use tokengate_handlers::{me, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let allowed_origins = Config::from_env()?.auth.allowed_origins;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("me", request_id, me::handle(&allowed_origins, req))
    }))
    .await
}
