//! `tokengate-gateway`: the deployed API on one machine, a model of API Gateway in front of
//! `cargo lambda watch`. Neither SAM's local API (it needs containers) nor `cargo lambda watch`
//! (no API Gateway routing, no authorizers) can run an authorizer-guarded API locally; this
//! can. Routes, stage, authorizers and gateway responses come from `template.yaml` as
//! CloudFormation deploys it: the JSON `scripts/sam_transform.py` writes (SAM's own transform,
//! with the template's parameter values as deployed given to it).
//!
//! Settings (environment variables):
//!
//! - `TOKENGATE_GATEWAY_ADDR` — where to listen (`127.0.0.1:3000`; port `0` lets the kernel
//!   pick, and the `listening on` line says which).
//! - `TOKENGATE_LAMBDA_URL` — where `cargo lambda watch` serves the Invoke API
//!   (`http://127.0.0.1:9000`).
//! - `TOKENGATE_GATEWAY_TEMPLATE` — required: the transformed template, the output of
//!   `scripts/sam_transform.py [--parameter-overrides 'Name=Value …'] template.yaml`. The
//!   template's parameter values (e.g. `AllowedOrigins` for the gateway responses' CORS origin,
//!   `AuthorizerCache`) are given to that script, as to `sam deploy --parameter-overrides`.
//! - `TOKENGATE_GATEWAY_API` — `rest` (default): a REST API (payload 1.0 proxy events, TOKEN or
//!   REQUEST authorizers with IAM policies, the template's gateway responses); `http`: the same
//!   routes as an HTTP API (payload 2.0 events, a format 2.0 REQUEST authorizer with simple
//!   responses, HTTP API's fixed 401/403/404/500 answers).
//! - `TOKENGATE_GATEWAY_CUSTOM_DOMAIN` — unset (default): serve as the execute-api URL does,
//!   every route under `/<StageName>` (`/v1/auth/login`); set to a host name (e.g.
//!   `localhost`): serve at the root as that custom domain with a root base-path mapping to the
//!   stage, and the browser demo page at `/`.
//! - `TOKENGATE_HTTP_IDENTITY_SOURCES` — HTTP API mode only: the authorizer's identity sources,
//!   comma-separated, which are also its cache key
//!   (`$request.header.Authorization,$context.httpMethod,$context.path`).
//! - `TOKENGATE_AUTHORIZER_CACHE_TTL` — seconds; overrides every authorizer's
//!   `authorizerResultTtlInSeconds` (0 turns the cache off; the end-to-end tests use it).
//! - `TOKENGATE_APP_ADDR` — unset (default): no app; else also serve the browser demo there as
//!   an app on an origin of its own, calling this gateway's API across origins (`app.rs`).
//! - `AWS_REGION` — region in ARNs and the execute-api host name (`us-east-1`).

mod app;
mod authorize;
mod event;
mod event_v2;
mod invoke;
mod request;
mod responses;
mod routes;
mod server;
mod template;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::request::{Flavor, Site, ACCOUNT, API_ID};
use crate::template::IdentitySource;

/// The identity sources that keep HTTP API authorizer caching per route: a cached answer for
/// one method and path never serves another.
const DEFAULT_HTTP_IDENTITY_SOURCES: &str =
    "$request.header.Authorization,$context.httpMethod,$context.path";

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
    let template_path = std::env::var("TOKENGATE_GATEWAY_TEMPLATE").context(
        "set TOKENGATE_GATEWAY_TEMPLATE to the output of scripts/sam_transform.py template.yaml",
    )?;
    // The parameters are the transform's now: a value here would be silently ignored.
    if std::env::var_os("TOKENGATE_GATEWAY_PARAMETERS").is_some() {
        bail!("TOKENGATE_GATEWAY_PARAMETERS: give parameter values to scripts/sam_transform.py --parameter-overrides");
    }
    let flavor = match var("TOKENGATE_GATEWAY_API", "rest").as_str() {
        "rest" => Flavor::Rest,
        "http" => Flavor::Http,
        other => bail!("TOKENGATE_GATEWAY_API must be rest or http, not {other:?}"),
    };
    let custom_domain = std::env::var("TOKENGATE_GATEWAY_CUSTOM_DOMAIN")
        .ok()
        .filter(|d| !d.is_empty());
    let http_identity = var(
        "TOKENGATE_HTTP_IDENTITY_SOURCES",
        DEFAULT_HTTP_IDENTITY_SOURCES,
    )
    .split(',')
    .map(IdentitySource::parse_http)
    .collect::<anyhow::Result<Vec<_>>>()
    .context("TOKENGATE_HTTP_IDENTITY_SOURCES")?;
    // Tests shorten API Gateway's authorizer cache to see expiry and revocation at once.
    let ttl_override = std::env::var("TOKENGATE_AUTHORIZER_CACHE_TTL")
        .ok()
        .map(|t| t.parse::<u64>())
        .transpose()
        .context("TOKENGATE_AUTHORIZER_CACHE_TTL must be a number of seconds")?;

    let text = std::fs::read_to_string(&template_path)
        .with_context(|| format!("cannot read {template_path} (set TOKENGATE_GATEWAY_TEMPLATE)"))?;
    let api = template::Api::from_cloudformation(&text).context(template_path)?;
    let invoker = invoke::Invoker::new(lambda.clone());
    let mut authorizers = HashMap::new();
    for (name, mut spec) in api.authorizers {
        if let Some(ttl) = ttl_override {
            spec.cache_ttl_secs = ttl;
        }
        let a = match flavor {
            Flavor::Rest => authorize::Authorizer::rest(&spec, invoker.clone()),
            Flavor::Http => authorize::Authorizer::http(
                &spec.function,
                http_identity.clone(),
                spec.cache_ttl_secs,
                invoker.clone(),
            ),
        };
        authorizers.insert(name, a);
    }
    let site = Site {
        flavor,
        stage: api.stage,
        custom_domain,
        region: var("AWS_REGION", "us-east-1"),
        account: ACCOUNT.to_owned(),
        api_id: API_ID.to_owned(),
    };
    let prefix = match &site.custom_domain {
        Some(_) => String::new(),
        None => format!("/{}", site.stage),
    };
    for r in api.routes.iter() {
        tracing::info!(
            "route {} {prefix}{} -> {}{}",
            r.method,
            r.path,
            r.function,
            r.authorizer
                .as_deref()
                .map(|a| format!(" (authorizer {a})"))
                .unwrap_or_default()
        );
    }
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (set TOKENGATE_GATEWAY_ADDR)"))?;
    let local = listener.local_addr()?;
    let kind = match site.flavor {
        Flavor::Rest => "REST API",
        Flavor::Http => "HTTP API",
    };
    let at = match &site.custom_domain {
        Some(d) => format!("at the root as custom domain {d}"),
        None => format!("under /{} as {}", site.stage, site.domain_name()),
    };
    println!("tokengate gateway listening on http://{local} ({kind} {at}; functions at {lambda})");
    if let Some(app_addr) = std::env::var("TOKENGATE_APP_ADDR")
        .ok()
        .filter(|a| !a.is_empty())
    {
        let app_listener = tokio::net::TcpListener::bind(&app_addr)
            .await
            .with_context(|| format!("cannot listen on {app_addr} (set TOKENGATE_APP_ADDR)"))?;
        let app_local = app_listener.local_addr()?;
        println!(
            "tokengate demo app listening on http://{app_local} (calls the API at port {}{prefix})",
            local.port()
        );
        tokio::spawn(app::serve_app(app_listener, local.port(), prefix.clone()));
    }
    let gateway = Arc::new(server::Gateway {
        site,
        routes: api.routes,
        responses: api.responses,
        invoker,
        authorizers,
    });
    server::serve(listener, gateway).await
}
