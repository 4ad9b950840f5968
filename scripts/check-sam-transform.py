#!/usr/bin/env python3
"""What SAM's own transform (aws-sam-translator, the code `sam deploy` and CloudFormation run)
makes of template.yaml's API, checked rule by rule (docs/testing.md, "What make test runs"):

  authorizer-on-protected   every method of the REST API but the public ones (PUBLIC below, and
                            OPTIONS) carries one of the template's authorizers (OpenAPI
                            `security`): a new public route is a decision made in PUBLIC, not an
                            `Auth` forgotten in the template.
  public-without-authorizer the public routes and every OPTIONS (CORS preflight) carry none: a
                            preflight never has a token, and an authorizer there would answer it
                            401.
  gateway-responses         UNAUTHORIZED answers 401 with `WWW-Authenticate: Bearer`; both
                            authorizer-error types answer 503 with `Retry-After` and the API's
                            `service_unavailable` body; every one of them, DEFAULT_4XX and
                            DEFAULT_5XX grant CORS with credentials.
  one-stage                 exactly one stage, and no deployment that creates another (SAM adds
                            a stage named `Stage` unless `OpenApiVersion` is set), so the API
                            answers under one prefix only.
  authorizer-cache-key      with AuthorizerCache=token the authorizer is a TOKEN one on the
                            Authorization header; with AuthorizerCache=route a REQUEST one whose
                            identity sources (its cache key) are that header, context.httpMethod
                            and context.path (docs/route-rules.md).

Every check runs once per AuthorizerCache value, on what scripts/sam_transform.py makes of the
template (AWS::LanguageExtensions, which resolves the `Fn::If` of that switch, then SAM's
transform): the very output the local gateway reads its API from.

Usage: check-sam-transform.py [--self-test] [TEMPLATE]   (default template.yaml)
--self-test also breaks a copy of the template once per rule and fails unless that rule, and
only that rule, catches it: a check that cannot fail checks nothing; and it runs
sam_transform.py's own cases of parameter resolution.
"""

import copy
import logging
import sys

from sam_transform import deployed, load
from sam_transform import self_test as resolver_self_test

# Reached without an access token: credentials come in the body or the refresh cookie, or the
# route publishes public keys.
PUBLIC = {
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("get", "/.well-known/jwks.json"),
    # OAuth 2.0 (docs/api.md): discovery metadata, the token endpoint, revocation.
    ("get", "/.well-known/openid-configuration"),
    ("get", "/.well-known/oauth-authorization-server"),
    ("post", "/oauth/token"),
    ("post", "/oauth/revoke"),
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}
CORS_HEADERS = {
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Vary",
}
ERROR_BODY = '"error":"service_unavailable"'


def rest_apis(output):
    return {
        name: resource["Properties"]["Body"]
        for name, resource in output["Resources"].items()
        if resource["Type"] == "AWS::ApiGateway::RestApi"
    }


def check(template):
    found = []
    for cache in ["token", "route"]:
        found += check_deployed(deployed(template, f"AuthorizerCache={cache}"), cache)
    return found


def check_deployed(output, cache):
    found = []
    for api, body in rest_apis(output).items():
        schemes = body.get("components", {}).get("securitySchemes", {})
        schemes.update(body.get("securityDefinitions", {}))
        authorizers = {
            name for name, s in schemes.items() if "x-amazon-apigateway-authorizer" in s
        }
        for name in sorted(authorizers):
            found += cache_key_problems(api, name, schemes[name], cache)
        for path, methods in body.get("paths", {}).items():
            for method, op in methods.items():
                if method not in METHODS:
                    continue
                used = {n for req in op.get("security", []) for n in req} & authorizers
                public = method == "options" or (method, path) in PUBLIC
                where = f"{api} {method.upper()} {path}"
                if public and used:
                    found.append(("public-without-authorizer", f"{where} carries {sorted(used)}"))
                if not public and not used:
                    found.append(("authorizer-on-protected", f"{where} has no authorizer"))
        found += gateway_response_problems(api, body.get("x-amazon-apigateway-gateway-responses", {}))
    stages = [n for n, r in output["Resources"].items() if r["Type"] == "AWS::ApiGateway::Stage"]
    if len(stages) != 1:
        found.append(("one-stage", f"{len(stages)} stages: {stages}"))
    for name, r in output["Resources"].items():
        if r["Type"] == "AWS::ApiGateway::Deployment" and r["Properties"].get("StageName"):
            found.append(("one-stage", f"{name} creates stage {r['Properties']['StageName']!r}"))
    return found


def cache_key_problems(api, name, scheme, cache):
    spec = scheme["x-amazon-apigateway-authorizer"]
    kind = spec.get("type")
    if cache == "token":
        ok = kind == "token" and scheme.get("name") == "Authorization"
    else:
        sources = {s.strip() for s in spec.get("identitySource", "").split(",")}
        ok = kind == "request" and sources == {
            "method.request.header.Authorization", "context.httpMethod", "context.path"}
    if ok:
        return []
    return [("authorizer-cache-key", f"{api} {name} with AuthorizerCache={cache}: {kind} "
             f"keyed by {spec.get('identitySource') or scheme.get('name')}")]


def gateway_response_problems(api, responses):
    found = []

    def headers(kind):
        return responses.get(kind, {}).get("responseParameters", {})

    for kind in ["UNAUTHORIZED", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE",
                 "DEFAULT_4XX", "DEFAULT_5XX"]:
        names = {k.rsplit(".", 1)[-1] for k in headers(kind)}
        if not CORS_HEADERS <= names:
            found.append(("gateway-responses", f"{api} {kind} lacks {sorted(CORS_HEADERS - names)}"))
    unauthorized = responses.get("UNAUTHORIZED", {})
    if str(unauthorized.get("statusCode")) != "401" or \
            headers("UNAUTHORIZED").get("gatewayresponse.header.WWW-Authenticate") != "'Bearer'":
        found.append(("gateway-responses", f"{api} UNAUTHORIZED is not 401 with WWW-Authenticate"))
    for kind in ["AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE"]:
        r = responses.get(kind, {})
        body = r.get("responseTemplates", {}).get("application/json", "")
        if str(r.get("statusCode")) != "503" or "gatewayresponse.header.Retry-After" not in \
                headers(kind) or ERROR_BODY not in body:
            found.append(("gateway-responses", f"{api} {kind} is not 503 service_unavailable"))
    return found


def breakages():
    """(rule, how to break the template) pairs for --self-test."""

    def event(t, function, name):
        return t["Resources"][function]["Properties"]["Events"][name]["Properties"]

    def unprotect_me(t):
        for e in t["Resources"]["MeFunction"]["Properties"]["Events"].values():
            if e["Properties"]["Method"] != "options":
                e["Properties"].pop("Auth", None)

    def protect_preflight(t):
        event(t, "RefreshFunction", "RefreshPreflight")["Auth"] = {
            "Authorizer": "TokengateAuthorizer"}

    def second_stage(t):
        t["Globals"]["Api"].pop("OpenApiVersion")

    def bare_unauthorized(t):
        t["Resources"]["TokengateApi"]["Properties"]["GatewayResponses"]["UNAUTHORIZED"][
            "ResponseParameters"]["Headers"].pop("WWW-Authenticate")

    def open_login_twin(t):
        # A new public route nobody listed (an authorized route copied without its Auth).
        e = copy.deepcopy(t["Resources"]["LoginFunction"]["Properties"]["Events"]["Login"])
        e["Properties"]["Path"] = "/auth/login2"
        t["Resources"]["LoginFunction"]["Properties"]["Events"]["Login2"] = e

    def route_cache_by_method(t):
        switch = t["Resources"]["TokengateApi"]["Properties"]["Auth"]["Authorizers"][
            "TokengateAuthorizer"]["Fn::If"]
        switch[1]["Identity"]["Context"] = ["httpMethod"]

    return [
        ("authorizer-on-protected", unprotect_me),
        ("authorizer-cache-key", route_cache_by_method),
        ("public-without-authorizer", protect_preflight),
        ("one-stage", second_stage),
        ("gateway-responses", bare_unauthorized),
        ("authorizer-on-protected", open_login_twin),
    ]


def main(args):
    # The translator logs its feature toggles and metrics at WARNING: noise here.
    logging.disable(logging.WARNING)
    self_test = "--self-test" in args
    paths = [a for a in args if a != "--self-test"] or ["template.yaml"]
    template = load(paths[0])
    found = check(template)
    for rule, problem in found:
        print(f"{rule}: {problem}", file=sys.stderr)
    if found:
        return 1
    if self_test:
        for problem in resolver_self_test():
            print(f"self-test failed: {problem}", file=sys.stderr)
            return 1
        print("self-test ok: parameters resolve as CloudFormation resolves them")
        for rule, breaks in breakages():
            broken = copy.deepcopy(template)
            breaks(broken)
            rules = {r for r, _ in check(broken)}
            if rules != {rule}:
                print(f"self-test failed: {breaks.__name__} -> {sorted(rules)}, expected {rule}",
                      file=sys.stderr)
                return 1
            print(f"self-test ok: {breaks.__name__} -> {sorted(rules)}")
    print(f"{paths[0]}: SAM's transform gives what the API needs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
