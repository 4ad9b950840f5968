//! `GET /.well-known/jwks.json` — wiring only. The key set is fetched from KMS once per cold
//! start; every request is answered from memory (`tokengate-handlers`, `jwks::response`).

use lambda_http::{run, service_fn, Error, Request};
use tokengate_aws::{connect_from_env, Function};
use tokengate_claims::Jwks;
use tokengate_domain::Config;
use tokengate_handlers::app::App;
use tokengate_handlers::{jwks, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let allowed_origins = config.auth.allowed_origins.clone();
    let adapters = connect_from_env(&config, Function::Jwks).await?;
    let keys: Jwks = App::build(config, adapters).jwks();
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe(
            "jwks",
            request_id,
            jwks::handle(&keys, &allowed_origins, req),
        )
    }))
    .await
}
