//! `tokengate-gateway`: the deployed API on one machine. Neither SAM's local API (it needs
//! containers) nor `cargo lambda watch` (no API Gateway routing, no authorizers) can run an
//! authorizer-guarded API locally; this can.
//!
//! Configuration: `TOKENGATE_GATEWAY_ADDR` (default `127.0.0.1:3000`), `TOKENGATE_LAMBDA_URL`
//! (where `cargo lambda watch` serves the Invoke API, default `http://127.0.0.1:9000`),
//! `TOKENGATE_TEMPLATE` (default `template.yaml`), `TOKENGATE_AUTHORIZER_CACHE_TTL` (overrides
//! the template's `ReauthorizeEvery`).

mod authorize;
mod event;
mod invoke;
mod server;
mod template;

use std::sync::Arc;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let addr = var("TOKENGATE_GATEWAY_ADDR", "127.0.0.1:3000");
    let lambda = var("TOKENGATE_LAMBDA_URL", "http://127.0.0.1:9000");
    let template_path = var("TOKENGATE_TEMPLATE", "template.yaml");

    let text = std::fs::read_to_string(&template_path)
        .with_context(|| format!("cannot read {template_path} (set TOKENGATE_TEMPLATE)"))?;
    let mut api = template::Api::from_template(&text)?;
    // Tests shorten API Gateway's authorizer cache to see expiry and revocation at once.
    if let (Some(a), Ok(ttl)) = (
        api.authorizer.as_mut(),
        std::env::var("TOKENGATE_AUTHORIZER_CACHE_TTL"),
    ) {
        a.cache_ttl_secs = ttl
            .parse()
            .context("TOKENGATE_AUTHORIZER_CACHE_TTL must be a number of seconds")?;
    }
    let invoker = invoke::Invoker::new(lambda.clone());
    let authorizer = api
        .authorizer
        .clone()
        .map(|spec| authorize::Authorizer::new(spec, invoker.clone()));
    for r in &api.routes {
        tracing::info!(
            "route {} {} -> {}{}",
            r.method,
            r.path,
            r.function,
            if r.authorized { " (authorizer)" } else { "" }
        );
    }
    let gateway = Arc::new(server::Gateway {
        api,
        invoker,
        authorizer,
    });
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (set TOKENGATE_GATEWAY_ADDR)"))?;
    println!("tokengate gateway listening on http://{addr} (functions at {lambda})");
    server::serve(listener, gateway).await
}
