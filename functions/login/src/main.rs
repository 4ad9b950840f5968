//! `POST /auth/login` — wiring only; the logic is in `tokengate-domain` / `tokengate-handlers`.

use lambda_http::{run, service_fn, Error};
use tokengate_handlers::{login, telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let login = wiring::login().await?;
    run(service_fn(|req| login::handle(&login, req))).await
}
