//! `POST /auth/logout` — wiring only.

use lambda_http::{run, service_fn, Error, Request};
use tokengate_handlers::{logout, telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let (logout, allowed_origins) = wiring::logout().await?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe(
            "logout",
            request_id,
            logout::handle(&logout, &allowed_origins, req),
        )
    }))
    .await
}
