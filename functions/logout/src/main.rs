//! `POST /auth/logout` — wiring only.

use lambda_http::{run, service_fn, Error};
use tokengate_handlers::{logout, telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let (logout, allowed_origins) = wiring::logout().await?;
    run(service_fn(|req| {
        logout::handle(&logout, &allowed_origins, req)
    }))
    .await
}
