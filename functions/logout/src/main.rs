//! `POST /auth/logout` and `POST /oauth/revoke` — wiring only: configuration, adapters, the service, the runtime. The
//! logic is in `tokengate-domain` (`logout::Logout`) and `tokengate-handlers`
//! (`logout::handle`).

use lambda_http::{run, service_fn, Error, Request};
use tokengate_aws::{connect_from_env, Function};
use tokengate_domain::logout::Logout;
use tokengate_domain::Config;
use tokengate_handlers::app::App;
use tokengate_handlers::{logout, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let allowed_origins = config.auth.allowed_origins.clone();
    let adapters = connect_from_env(&config, Function::Logout).await?;
    let service: Logout = App::build(config, adapters).logout()?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe(
            "logout",
            request_id,
            logout::route(&service, &allowed_origins, req),
        )
    }))
    .await
}
