//! `POST /auth/login` — wiring only; the logic is in `tokengate-domain` / `tokengate-handlers`.

use lambda_http::{run, service_fn, Error, Request};
use tokengate_handlers::{login, telemetry, wiring};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let login = wiring::login().await?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("login", request_id, login::handle(&login, req))
    }))
    .await
}
