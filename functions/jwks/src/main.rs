//! `GET /.well-known/jwks.json` and the discovery metadata (`openid-configuration`,
//! `oauth-authorization-server`) — wiring only. The key set is the keyring's (`next`,
//! `current`, `retiring`), read at cold start and re-read at most every refresh interval; no
//! KMS call (`tokengate-handlers`, `jwks::route`, which also answers CORS).

use lambda_http::{run, service_fn, Error, Request};
use tokengate_aws::{connect_from_env, Function};
use tokengate_domain::keyring::LiveKeyring;
use tokengate_domain::Config;
use tokengate_handlers::app::App;
use tokengate_handlers::{jwks, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let auth = config.auth.clone();
    let adapters = connect_from_env(&config, Function::Jwks).await?;
    let keyring: std::sync::Arc<LiveKeyring> = App::build(config, adapters).keyring()?;
    run(service_fn(|req: Request| {
        let request_id = telemetry::request_id(&req);
        telemetry::observe("jwks", request_id, jwks::route(&keyring, &auth, req))
    }))
    .await
}
