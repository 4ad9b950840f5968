//! REST API gateway responses: what API Gateway itself answers (no route, 401, 403, authorizer
//! errors), read from the template's `GatewayResponses` with API Gateway's defaults behind them.
//!
//! As on AWS: a type the template customises answers with its `StatusCode` (else the type's
//! default status), its `ResponseParameters.Headers` and its `application/json` template (else
//! the default body); a type it does not customise falls back to `DEFAULT_4XX`/`DEFAULT_5XX`
//! (by the type's default status class) if the template customises those, else to API
//! Gateway's built-in answer `{"message":$context.error.messageString}`.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde_json::Value as Json;
use serde_yaml::Value;

use crate::template::{resolve_string, Parameters};

/// The gateway response types the local gateway produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResponseType {
    /// No resource or method for the request (403).
    MissingAuthenticationToken,
    /// The authorizer said `Unauthorized`, or the identity source is missing (401).
    Unauthorized,
    /// The authorizer's policy does not allow the method ARN (403): no statement applies.
    AccessDenied,
    /// `ACCESS_DENIED` too, but a `Deny` statement applies: API Gateway's message says so (AWS
    /// Knowledge Center, "How do I troubleshoot HTTP 403 Forbidden errors when using a Lambda
    /// authorizer with an API Gateway REST API?", which shows both messages).
    ExplicitDeny,
    /// The authorizer returned another error, or an unusable answer (500).
    AuthorizerConfigurationError,
    /// The authorizer could not be reached or timed out (500).
    AuthorizerFailure,
    /// The request body is over the payload limit (413).
    RequestTooLarge,
}

impl ResponseType {
    /// The name in `GatewayResponses` and `$context.error.responseType`.
    pub fn name(self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::AccessDenied | Self::ExplicitDeny => "ACCESS_DENIED",
            Self::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            Self::AuthorizerFailure => "AUTHORIZER_FAILURE",
            Self::RequestTooLarge => "REQUEST_TOO_LARGE",
        }
    }

    /// API Gateway's default status code for the type.
    pub fn default_status(self) -> u16 {
        match self {
            Self::MissingAuthenticationToken | Self::AccessDenied | Self::ExplicitDeny => 403,
            Self::Unauthorized => 401,
            Self::AuthorizerConfigurationError | Self::AuthorizerFailure => 500,
            Self::RequestTooLarge => 413,
        }
    }

    /// `$context.error.messageString`'s message; `None` renders as JSON `null` (what API
    /// Gateway shows for authorizer errors).
    pub fn message(self) -> Option<&'static str> {
        match self {
            Self::MissingAuthenticationToken => Some("Missing Authentication Token"),
            Self::Unauthorized => Some("Unauthorized"),
            Self::AccessDenied => Some("User is not authorized to access this resource"),
            Self::ExplicitDeny => {
                Some("User is not authorized to access this resource with an explicit deny")
            }
            Self::AuthorizerConfigurationError | Self::AuthorizerFailure => None,
            Self::RequestTooLarge => Some("Request Too Long"),
        }
    }
}

/// Where a response header value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HeaderSource {
    /// `'text'`.
    Static(String),
    /// `method.request.header.NAME`: the request's header, omitted if absent.
    RequestHeader(String),
}

/// One customised gateway response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Custom {
    status: Option<u16>,
    headers: Vec<(String, HeaderSource)>,
    template: Option<String>,
}

/// A gateway response, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Status code.
    pub status: u16,
    /// Headers (`content-type: application/json` first).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

/// The request facts a gateway response may refer to.
pub struct ErrorContext<'a> {
    /// Request headers, names lower-case.
    pub headers: &'a [(String, String)],
    /// `$context.requestId`.
    pub request_id: &'a str,
}

/// The template's gateway responses.
#[derive(Debug, Clone, Default)]
pub struct GatewayResponses {
    custom: BTreeMap<String, Custom>,
}

impl GatewayResponses {
    /// Reads `GatewayResponses` of a SAM `AWS::Serverless::Api` (absent: every default).
    pub fn from_template(section: Option<&Value>, params: &Parameters) -> anyhow::Result<Self> {
        let mut custom = BTreeMap::new();
        for (name, spec) in section.and_then(Value::as_mapping).into_iter().flatten() {
            let name = name
                .as_str()
                .context("gateway response type name")?
                .to_owned();
            let status = spec
                .get("StatusCode")
                .map(|v| resolve_string(v, params))
                .transpose()?
                .map(|s| s.parse::<u16>())
                .transpose()
                .with_context(|| format!("{name}: StatusCode must be a status code"))?;
            let mut headers = Vec::new();
            let hs = spec
                .get("ResponseParameters")
                .and_then(|p| p.get("Headers"))
                .and_then(Value::as_mapping);
            for (h, v) in hs.into_iter().flatten() {
                let h = h.as_str().context("header name")?.to_owned();
                let v = resolve_string(v, params)?;
                headers.push((h.clone(), header_source(&name, &h, &v)?));
            }
            let template = spec
                .get("ResponseTemplates")
                .and_then(|t| t.get("application/json"))
                .map(|t| resolve_string(t, params))
                .transpose()?;
            custom.insert(
                name,
                Custom {
                    status,
                    headers,
                    template,
                },
            );
        }
        Ok(Self { custom })
    }

    /// The response API Gateway sends for `kind`.
    pub fn render(&self, kind: ResponseType, ctx: &ErrorContext<'_>) -> Rendered {
        let default_status = kind.default_status();
        let fallback = if default_status >= 500 {
            "DEFAULT_5XX"
        } else {
            "DEFAULT_4XX"
        };
        let custom = self
            .custom
            .get(kind.name())
            .or_else(|| self.custom.get(fallback));
        let status = custom.and_then(|c| c.status).unwrap_or(default_status);
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        for (name, source) in custom.map(|c| c.headers.as_slice()).unwrap_or_default() {
            let value = match source {
                HeaderSource::Static(v) => Some(v.clone()),
                HeaderSource::RequestHeader(h) => ctx
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(h))
                    .map(|(_, v)| v.clone()),
            };
            if let Some(v) = value {
                headers.push((name.clone(), v));
            }
        }
        let template = custom
            .and_then(|c| c.template.as_deref())
            .unwrap_or(r#"{"message":$context.error.messageString}"#);
        Rendered {
            status,
            headers,
            body: substitute(template, kind, ctx),
        }
    }
}

fn header_source(kind: &str, name: &str, value: &str) -> anyhow::Result<HeaderSource> {
    if let Some(s) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return Ok(HeaderSource::Static(s.to_owned()));
    }
    if let Some(h) = value.strip_prefix("method.request.header.") {
        return Ok(HeaderSource::RequestHeader(h.to_owned()));
    }
    bail!(
        "{kind}: header {name} = {value:?}: the local gateway models only 'static' values and method.request.header.X"
    )
}

/// The `$context` variables a gateway response template may use here.
fn substitute(template: &str, kind: ResponseType, ctx: &ErrorContext<'_>) -> String {
    let quoted = match kind.message() {
        Some(m) => Json::String(m.to_owned()).to_string(),
        None => "null".to_owned(),
    };
    template
        .replace("$context.error.messageString", &quoted)
        .replace("$context.error.message", kind.message().unwrap_or(""))
        .replace("$context.error.responseType", kind.name())
        .replace("$context.requestId", ctx.request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: ErrorContext<'static> = ErrorContext {
        headers: &[],
        request_id: "r-1",
    };

    fn responses(yaml: &str) -> GatewayResponses {
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        GatewayResponses::from_template(Some(&v), &Parameters::default()).unwrap()
    }

    fn json(body: &str) -> Json {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn without_customisation_api_gateway_defaults_answer() {
        let r = GatewayResponses::default();
        let cases = [
            (
                ResponseType::Unauthorized,
                401,
                r#"{"message":"Unauthorized"}"#,
            ),
            (
                ResponseType::AccessDenied,
                403,
                r#"{"message":"User is not authorized to access this resource"}"#,
            ),
            (
                ResponseType::ExplicitDeny,
                403,
                r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#,
            ),
            (
                ResponseType::AuthorizerConfigurationError,
                500,
                r#"{"message":null}"#,
            ),
            (ResponseType::AuthorizerFailure, 500, r#"{"message":null}"#),
            (
                ResponseType::MissingAuthenticationToken,
                403,
                r#"{"message":"Missing Authentication Token"}"#,
            ),
            (
                ResponseType::RequestTooLarge,
                413,
                r#"{"message":"Request Too Long"}"#,
            ),
        ];
        for (kind, status, body) in cases {
            let out = r.render(kind, &CTX);
            assert_eq!(out.status, status, "{kind:?}");
            assert_eq!(json(&out.body), json(body), "{kind:?}");
            assert_eq!(
                out.headers,
                vec![("content-type".to_owned(), "application/json".to_owned())]
            );
        }
    }

    #[test]
    fn customised_types_use_status_headers_and_template() {
        let r = responses(
            r#"
UNAUTHORIZED:
  StatusCode: 401
  ResponseParameters:
    Headers:
      WWW-Authenticate: "'Bearer'"
      Access-Control-Allow-Origin: method.request.header.Origin
ACCESS_DENIED:
  ResponseTemplates:
    application/json: '{"type":"$context.error.responseType","id":"$context.requestId"}'
"#,
        );
        let ctx = ErrorContext {
            headers: &[("origin".to_owned(), "https://app.example".to_owned())],
            request_id: "r-9",
        };
        let u = r.render(ResponseType::Unauthorized, &ctx);
        assert_eq!(u.status, 401);
        assert_eq!(json(&u.body), json(r#"{"message":"Unauthorized"}"#));
        assert_eq!(
            u.headers[1..],
            [
                ("WWW-Authenticate".to_owned(), "Bearer".to_owned()),
                (
                    "Access-Control-Allow-Origin".to_owned(),
                    "https://app.example".to_owned()
                )
            ]
        );
        // A request without the header gets no such response header.
        assert_eq!(r.render(ResponseType::Unauthorized, &CTX).headers.len(), 2);
        let d = r.render(ResponseType::AccessDenied, &ctx);
        assert_eq!(
            d.status, 403,
            "default status of a customised type without one"
        );
        assert_eq!(
            json(&d.body),
            json(r#"{"type":"ACCESS_DENIED","id":"r-9"}"#)
        );
    }

    #[test]
    fn uncustomised_types_fall_back_to_default_4xx_and_5xx() {
        let r = responses(
            r#"
DEFAULT_4XX:
  ResponseParameters:
    Headers:
      X-Four: "'4'"
DEFAULT_5XX:
  StatusCode: 503
"#,
        );
        let m = r.render(ResponseType::MissingAuthenticationToken, &CTX);
        assert_eq!(m.status, 403);
        assert_eq!(m.headers[1], ("X-Four".to_owned(), "4".to_owned()));
        let f = r.render(ResponseType::AuthorizerFailure, &CTX);
        assert_eq!(f.status, 503);
        assert_eq!(json(&f.body), json(r#"{"message":null}"#));
    }

    #[test]
    fn unsupported_header_mappings_are_refused() {
        let v: Value = serde_yaml::from_str(
            "UNAUTHORIZED: {ResponseParameters: {Headers: {X: context.authorizer.x}}}",
        )
        .unwrap();
        assert!(GatewayResponses::from_template(Some(&v), &Parameters::default()).is_err());
    }

    #[test]
    fn the_project_template_fails_closed_with_503_and_retry_after() {
        let text = include_str!("../../../template.yaml");
        let api = crate::template::Api::from_template(text).unwrap();
        let expected_body = serde_json::json!({
            "error": "service_unavailable",
            "message": tokengate_domain::ErrorCode::ServiceUnavailable.message(),
        });
        for kind in [
            ResponseType::AuthorizerConfigurationError,
            ResponseType::AuthorizerFailure,
        ] {
            let out = api.responses.render(kind, &CTX);
            assert_eq!(out.status, 503, "{kind:?}");
            assert_eq!(
                cors_free(&out),
                vec![
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("Retry-After".to_owned(), "2".to_owned()),
                ],
                "{kind:?}"
            );
            assert_eq!(json(&out.body), expected_body, "{kind:?}");
        }
        let u = api.responses.render(ResponseType::Unauthorized, &CTX);
        assert_eq!(u.status, 401);
        assert!(u
            .headers
            .contains(&("WWW-Authenticate".to_owned(), "Bearer".to_owned())));
        assert_eq!(json(&u.body), json(r#"{"message":"Unauthorized"}"#));
        let d = api.responses.render(ResponseType::AccessDenied, &CTX);
        assert_eq!(d.status, 403);
        assert_eq!(
            json(&d.body),
            json(r#"{"message":"User is not authorized to access this resource"}"#)
        );
    }

    /// The headers of a rendered response other than the CORS ones.
    fn cors_free(r: &Rendered) -> Vec<(String, String)> {
        r.headers
            .iter()
            .filter(|(k, _)| !k.starts_with("Access-Control-") && k != "Vary")
            .cloned()
            .collect()
    }

    #[test]
    fn every_answer_of_api_gateway_grants_the_first_allowed_origin() {
        let text = include_str!("../../../template.yaml");
        let api = crate::template::Api::deployed_with(
            text,
            "AllowedOrigins=http://localhost:3001,http://localhost:3000",
        )
        .unwrap();
        let grant = vec![
            (
                "Access-Control-Allow-Origin".to_owned(),
                "http://localhost:3001".to_owned(),
            ),
            (
                "Access-Control-Allow-Credentials".to_owned(),
                "true".to_owned(),
            ),
            (
                "Access-Control-Expose-Headers".to_owned(),
                "retry-after, www-authenticate".to_owned(),
            ),
            ("Vary".to_owned(), "Origin".to_owned()),
        ];
        // A static value whatever the request's Origin: a foreign origin is named nowhere.
        let ctx = ErrorContext {
            headers: &[("origin".to_owned(), "https://evil.test".to_owned())],
            request_id: "r-1",
        };
        for (kind, status) in [
            (ResponseType::Unauthorized, 401),
            (ResponseType::AccessDenied, 403),
            (ResponseType::ExplicitDeny, 403),
            (ResponseType::MissingAuthenticationToken, 403),
            (ResponseType::RequestTooLarge, 413),
            (ResponseType::AuthorizerConfigurationError, 503),
            (ResponseType::AuthorizerFailure, 503),
        ] {
            let out = api.responses.render(kind, &ctx);
            assert_eq!(out.status, status, "{kind:?}");
            let cors: Vec<_> = out
                .headers
                .iter()
                .filter(|h| !cors_free(&out).contains(h))
                .cloned()
                .collect();
            assert_eq!(cors, grant, "{kind:?}");
        }
        // With the template's default, the default origin.
        let default = crate::template::Api::from_template(text).unwrap();
        let u = default.responses.render(ResponseType::Unauthorized, &CTX);
        assert!(u.headers.contains(&(
            "Access-Control-Allow-Origin".to_owned(),
            "https://app.example.com".to_owned()
        )));
    }
}
