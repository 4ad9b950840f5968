//! REST API gateway responses: what API Gateway itself answers (no route, 401, 403, authorizer
//! errors), read from the API's `x-amazon-apigateway-gateway-responses` (what SAM makes of the
//! template's `GatewayResponses`) with API Gateway's defaults behind them.
//!
//! As on AWS: a type the API customises answers with its `statusCode` (else the type's
//! default status), its `gatewayresponse.header.*` parameters and its `application/json` template (else
//! the default body); a type it does not customise falls back to `DEFAULT_4XX`/`DEFAULT_5XX`
//! (by the type's default status class) if the template customises those, else to API
//! Gateway's built-in answer `{"message":$context.error.messageString}`.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde_json::Value as Json;

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
    /// Reads an OpenAPI body's `x-amazon-apigateway-gateway-responses` (absent: every
    /// default), values as CloudFormation deploys them.
    pub fn from_openapi(section: Option<&Json>) -> anyhow::Result<Self> {
        let mut custom = BTreeMap::new();
        for (name, spec) in section.and_then(Json::as_object).into_iter().flatten() {
            let literal = |v: &'_ Json, what: &str| -> anyhow::Result<String> {
                match v {
                    Json::String(s) => Ok(s.clone()),
                    Json::Number(n) => Ok(n.to_string()),
                    _ => bail!("{name}: {what} {v} is not a literal"),
                }
            };
            let status = spec
                .get("statusCode")
                .map(|v| literal(v, "statusCode"))
                .transpose()?
                .map(|s| s.parse::<u16>())
                .transpose()
                .with_context(|| format!("{name}: statusCode must be a status code"))?;
            let mut headers = Vec::new();
            let params = spec.get("responseParameters").and_then(Json::as_object);
            for (key, v) in params.into_iter().flatten() {
                let h = key
                    .strip_prefix("gatewayresponse.header.")
                    .with_context(|| {
                        format!("{name}: {key}: the local gateway models only response headers")
                    })?;
                let v = literal(v, key)?;
                headers.push((h.to_owned(), header_source(name, h, &v)?));
            }
            let template = spec
                .get("responseTemplates")
                .and_then(|t| t.get("application/json"))
                .map(|t| literal(t, "responseTemplates"))
                .transpose()?;
            custom.insert(
                name.clone(),
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

    fn responses(section: Json) -> GatewayResponses {
        GatewayResponses::from_openapi(Some(&section)).unwrap()
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
        let r = responses(serde_json::json!({
            "UNAUTHORIZED": {
                "statusCode": "401",
                "responseParameters": {
                    "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.Origin",
                    "gatewayresponse.header.WWW-Authenticate": "'Bearer'",
                },
            },
            "ACCESS_DENIED": {
                "responseTemplates": {
                    "application/json": r#"{"type":"$context.error.responseType","id":"$context.requestId"}"#,
                },
            },
        }));
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
                (
                    "Access-Control-Allow-Origin".to_owned(),
                    "https://app.example".to_owned()
                ),
                ("WWW-Authenticate".to_owned(), "Bearer".to_owned()),
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
        let r = responses(serde_json::json!({
            "DEFAULT_4XX": {"responseParameters": {"gatewayresponse.header.X-Four": "'4'"}},
            "DEFAULT_5XX": {"statusCode": "503", "responseTemplates": {}},
        }));
        let m = r.render(ResponseType::MissingAuthenticationToken, &CTX);
        assert_eq!(m.status, 403);
        assert_eq!(m.headers[1], ("X-Four".to_owned(), "4".to_owned()));
        let f = r.render(ResponseType::AuthorizerFailure, &CTX);
        assert_eq!(f.status, 503);
        assert_eq!(json(&f.body), json(r#"{"message":null}"#));
    }

    #[test]
    fn unsupported_header_mappings_are_refused() {
        for section in [
            serde_json::json!({"UNAUTHORIZED": {"responseParameters": {"gatewayresponse.header.X": "context.authorizer.x"}}}),
            // What CloudFormation would resolve on deploy but the transform left: refused.
            serde_json::json!({"UNAUTHORIZED": {"responseParameters": {"gatewayresponse.header.X": {"Ref": "P"}}}}),
            serde_json::json!({"UNAUTHORIZED": {"responseParameters": {"gatewayresponse.querystring.x": "'y'"}}}),
        ] {
            assert!(
                GatewayResponses::from_openapi(Some(&section)).is_err(),
                "{section}"
            );
        }
    }

    #[test]
    fn the_project_template_fails_closed_with_503_and_retry_after() {
        let api = crate::template::tests::deployed("");
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
        let api = crate::template::tests::deployed(
            "AllowedOrigins=http://localhost:3001,http://localhost:3000",
        );
        let grant = vec![
            (
                "Access-Control-Allow-Credentials".to_owned(),
                "true".to_owned(),
            ),
            (
                "Access-Control-Allow-Origin".to_owned(),
                "http://localhost:3001".to_owned(),
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
        let default = crate::template::tests::deployed("");
        let u = default.responses.render(ResponseType::Unauthorized, &CTX);
        assert!(u.headers.contains(&(
            "Access-Control-Allow-Origin".to_owned(),
            "https://app.example.com".to_owned()
        )));
    }
}
