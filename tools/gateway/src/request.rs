//! Where the API is served (execute-api URL with its stage prefix, or a custom domain at the
//! root), which API Gateway it models (REST or HTTP API), and the incoming request as the
//! gateway sees it.

use bytes::Bytes;

/// Which kind of API Gateway API is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// REST API: proxy events (payload 1.0), IAM-policy authorizers, gateway responses.
    Rest,
    /// HTTP API: payload 2.0 events, simple-response authorizers, fixed error answers.
    Http,
}

/// The deployment the gateway pretends to be.
#[derive(Debug, Clone)]
pub struct Site {
    /// REST or HTTP API.
    pub flavor: Flavor,
    /// The stage (`StageName` of the template).
    pub stage: String,
    /// `None`: the execute-api URL, every route under `/<stage>`. `Some(host)`: a custom domain
    /// with a root base-path mapping to the stage, routes at the root.
    pub custom_domain: Option<String>,
    /// Region in ARNs and the execute-api host name.
    pub region: String,
    /// Account id in ARNs.
    pub account: String,
    /// API id in ARNs and the execute-api host name.
    pub api_id: String,
}

/// The API id the local API has (same as the sample events in `events/`).
pub const API_ID: &str = "a1b2c3d4e5";
/// The account id the local API has (same as the sample events in `events/`).
pub const ACCOUNT: &str = "123456789012";

impl Site {
    /// `requestContext.domainName`.
    pub fn domain_name(&self) -> String {
        match &self.custom_domain {
            Some(d) => d.clone(),
            None => format!("{}.execute-api.{}.amazonaws.com", self.api_id, self.region),
        }
    }

    /// `requestContext.domainPrefix`: the first label of the domain name.
    pub fn domain_prefix(&self) -> String {
        let d = self.domain_name();
        d.split('.').next().unwrap_or_default().to_owned()
    }

    /// The path within the API for a request path, or `None` when the request is outside the
    /// stage (execute-api URL only: a custom domain maps the root to the stage).
    pub fn api_path(&self, raw_path: &str) -> Option<String> {
        if self.custom_domain.is_some() {
            return Some(raw_path.to_owned());
        }
        let rest = raw_path
            .strip_prefix('/')?
            .strip_prefix(self.stage.as_str())?;
        match rest {
            "" => Some("/".to_owned()),
            r if r.starts_with('/') => Some(r.to_owned()),
            _ => None,
        }
    }

    /// The request path as the stage sees it: with `/<stage>` on the execute-api URL, as sent
    /// behind a custom domain (REST `requestContext.path`, HTTP API `rawPath`, `$context.path`).
    pub fn stage_path(&self, api_path: &str) -> String {
        match self.custom_domain {
            Some(_) => api_path.to_owned(),
            None => format!("/{}{api_path}", self.stage),
        }
    }

    /// `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH`, with the raw path within
    /// the API (colons and all), as API Gateway builds `methodArn` and `routeArn`.
    pub fn method_arn(&self, method: &str, api_path: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{method}{api_path}",
            self.region, self.account, self.api_id, self.stage
        )
    }
}

/// What the gateway knows about an incoming request.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Method, upper case.
    pub method: String,
    /// Path within the API (stage removed), as sent (not percent-decoded).
    pub path: String,
    /// Query string as sent, without `?`.
    pub raw_query: String,
    /// Headers, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Bytes,
    /// Peer address: what API Gateway reports as `sourceIp`.
    pub source_ip: String,
    /// Request id.
    pub request_id: String,
    /// Arrival time, milliseconds since the epoch.
    pub time_epoch_ms: u64,
}

impl Incoming {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query parameters in order, split at the first `=` (values as sent).
    pub fn query(&self) -> Vec<(String, String)> {
        self.raw_query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// `$context` variables the gateway can give an identity source.
pub const CONTEXT_VARIABLES: [&str; 8] = [
    "httpMethod",
    "path",
    "resourcePath",
    "routeKey",
    "stage",
    "domainName",
    "apiId",
    "identity.sourceIp",
];

/// The value of a `$context` variable for a request to `resource` (the route's template path)
/// with route key `route_key`.
pub fn context_value(
    name: &str,
    req: &Incoming,
    site: &Site,
    resource: &str,
    route_key: &str,
) -> Option<String> {
    Some(match name {
        "httpMethod" => req.method.clone(),
        "path" => site.stage_path(&req.path),
        "resourcePath" => resource.to_owned(),
        "routeKey" => route_key.to_owned(),
        "stage" => site.stage.clone(),
        "domainName" => site.domain_name(),
        "apiId" => site.api_id.clone(),
        "identity.sourceIp" => req.source_ip.clone(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::event::tests::site;

    #[test]
    fn the_execute_api_url_serves_under_the_stage_only() {
        let s = site(None);
        assert_eq!(s.api_path("/v1/api/me").as_deref(), Some("/api/me"));
        assert_eq!(s.api_path("/v1").as_deref(), Some("/"));
        assert_eq!(s.api_path("/v1/").as_deref(), Some("/"));
        assert_eq!(s.api_path("/api/me"), None);
        assert_eq!(s.api_path("/v1x/api"), None);
        assert_eq!(s.api_path("/"), None);
        assert_eq!(s.stage_path("/api/me"), "/v1/api/me");
        assert_eq!(
            s.domain_name(),
            "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
        );
        assert_eq!(s.domain_prefix(), "a1b2c3d4e5");
    }

    #[test]
    fn a_custom_domain_serves_at_the_root() {
        let s = site(Some("api.example.com"));
        assert_eq!(s.api_path("/api/me").as_deref(), Some("/api/me"));
        assert_eq!(s.api_path("/v1/api/me").as_deref(), Some("/v1/api/me"));
        assert_eq!(s.stage_path("/api/me"), "/api/me");
        assert_eq!(s.domain_name(), "api.example.com");
        assert_eq!(s.domain_prefix(), "api");
    }

    #[test]
    fn method_arns_carry_the_raw_path_without_the_stage() {
        for s in [site(None), site(Some("localhost"))] {
            assert_eq!(
                s.method_arn("GET", "/api/admin/x:a/b/c"),
                "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/GET/api/admin/x:a/b/c"
            );
        }
    }
}
