//! `POST /auth/password` (behind the authorizer) — wiring only: configuration, adapters, the
//! service, the runtime. The logic is in `tokengate-domain` (`password_change::PasswordChange`)
//! and `tokengate-handlers` (`password::handle`).

use lambda_http::{run, service_fn, Error, Request};
use tokengate_aws::{connect_from_env, Function};
use tokengate_domain::password_change::PasswordChange;
use tokengate_domain::Config;
use tokengate_handlers::app::App;
use tokengate_handlers::{password, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let adapters = connect_from_env(&config, Function::Password).await?;
    let service: PasswordChange = App::build(config, adapters).password_change()?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("password", request_id, password::handle(&service, req))
    }))
    .await
}
