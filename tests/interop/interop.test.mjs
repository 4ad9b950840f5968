// Third-party clients nobody here wrote, against the running stack (tests/e2e/interop.rs):
// oauth4webapi discovers and validates the metadata at the issuer, refreshes with the
// refresh_token grant and revokes at the advertised endpoints; aws-jwt-verify verifies an
// access token (issuer, audience, scope, signature by the JWKS at the advertised jwks_uri).
//
// TOKENGATE_ISSUER is the root gateway's URL (as a custom domain serves it), which the stack's
// functions use as their issuer; TOKENGATE_USERNAME / TOKENGATE_PASSWORD a seeded user.
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { JwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";

const issuer = new URL(process.env.TOKENGATE_ISSUER);
// The local stack is plain HTTP on localhost; deployed, the issuer is HTTPS and this goes.
const http = { [oauth.allowInsecureRequests]: true };
// A registered native client of the stack (tests/src/local_api.rs, as `make dev`).
const client = { client_id: "cli" };
const clientAuth = oauth.None();

// 1. Discovery, both documents; processDiscoveryResponse checks `issuer` is exactly the URL
// asked (RFC 8414 §3.3).
const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { ...http, algorithm: "oauth2" }),
);
const oidc = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { ...http, algorithm: "oidc" }),
);
assert.deepEqual(oidc, as, "one document at both well-known paths");
assert.ok(as.grant_types_supported.includes("refresh_token"));
assert.deepEqual(as.token_endpoint_auth_methods_supported, ["none"]);

// 2. A first refresh token from the JSON login (not an OAuth grant).
const login = await fetch(new URL(`${issuer.href.replace(/\/$/, "")}/auth/login`), {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    username: process.env.TOKENGATE_USERNAME,
    password: process.env.TOKENGATE_PASSWORD,
    client_id: client.client_id,
    // orders:write needs role admin, which this user lacks: the grant is narrowed and echoed.
    scope: "orders:read orders:write",
  }),
});
assert.equal(login.status, 200, "login");
const loggedIn = await login.json();
assert.equal(loggedIn.scope, "orders:read", "the grant narrowed by the user's roles");
const first = loggedIn.refresh_token;

// 3. The refresh_token grant at the advertised token endpoint.
const refreshed = await oauth.processRefreshTokenResponse(
  as,
  client,
  await oauth.refreshTokenGrantRequest(as, client, clientAuth, first, http),
);
assert.equal(refreshed.token_type, "bearer");
assert.ok(refreshed.refresh_token && refreshed.refresh_token !== first, "rotated");

// 4. aws-jwt-verify: issuer, audience, signature by the advertised JWKS (fetched over plain
// HTTP here, which its own fetcher refuses: the same fetch, another transport).
const fetcher = {
  async fetch(uri) {
    const resp = await globalThis.fetch(uri);
    assert.equal(resp.status, 200, uri);
    return resp.arrayBuffer();
  },
};
const verifier = JwtVerifier.create(
  {
    issuer: as.issuer,
    audience: process.env.TOKENGATE_AUDIENCE ?? "api",
    jwksUri: as.jwks_uri,
    scope: ["orders:read"],
  },
  { jwksCache: new SimpleJwksCache({ fetcher }) },
);
const claims = await verifier.verify(refreshed.access_token);
assert.equal(claims.iss, issuer.href.replace(/\/$/, ""));
assert.equal(claims.client_id, client.client_id);
assert.equal(claims.scope, "orders:read");
const writer = JwtVerifier.create(
  { issuer: as.issuer, audience: "api", jwksUri: as.jwks_uri, scope: ["orders:write"] },
  { jwksCache: new SimpleJwksCache({ fetcher }) },
);
await assert.rejects(writer.verify(refreshed.access_token), "a token without the scope");
await assert.rejects(
  verifier.verify(refreshed.access_token.slice(0, -4) + "AAAA"),
  "a tampered signature is refused",
);
const otherAudience = JwtVerifier.create(
  { issuer: as.issuer, audience: "another-api", jwksUri: as.jwks_uri },
  { jwksCache: new SimpleJwksCache({ fetcher }) },
);
await assert.rejects(otherAudience.verify(refreshed.access_token), "wrong audience");

// 5. Revocation at the advertised endpoint, then the grant is refused as RFC 6749 §5.2 says.
await oauth.processRevocationResponse(
  await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token, {
    ...http,
    additionalParameters: { token_type_hint: "refresh_token" },
  }),
);
await assert.rejects(
  async () =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token, http),
    ),
  (e) => e instanceof oauth.ResponseBodyError && e.error === "invalid_grant",
);
console.log("interop: discovery, refresh, JWT verification and revocation passed");
