//! `POST /auth/login` — wiring only: configuration, adapters, the service, the runtime. The
//! logic is in `tokengate-domain` (`login::Login`) and `tokengate-handlers` (`login::handle`).

use lambda_http::{run, service_fn, Error, Request};
use tokengate_aws::{connect_from_env, Function};
use tokengate_domain::login::Login;
use tokengate_domain::Config;
use tokengate_handlers::app::App;
use tokengate_handlers::{login, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let adapters = connect_from_env(&config, Function::Login).await?;
    let service: Login = App::build(config, adapters).login()?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("login", request_id, login::handle(&service, req))
    }))
    .await
}
