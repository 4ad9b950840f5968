//! `POST /auth/refresh` and `POST /oauth/token` — wiring only: configuration, adapters, the service, the runtime. The
//! logic is in `tokengate-domain` (`refresh::Refresh`) and `tokengate-handlers`
//! (`refresh::handle`).

use lambda_http::{run, service_fn, Error, Request};
use tokengate_aws::{connect_from_env, Function};
use tokengate_domain::refresh::Refresh;
use tokengate_domain::Config;
use tokengate_handlers::app::App;
use tokengate_handlers::{refresh, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let adapters = connect_from_env(&config, Function::Refresh).await?;
    let service: Refresh = App::build(config, adapters).refresh()?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("refresh", request_id, refresh::route(&service, req))
    }))
    .await
}
