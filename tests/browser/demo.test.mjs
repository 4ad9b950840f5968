// Headless Chromium runs the demo page (tools/gateway/src/demo.html) as a cross-origin app: the
// page comes from the app origin (the gateway's TOKENGATE_APP_ADDR) and calls the API on the
// gateway's origin under the stage prefix (/v1, as the execute-api URL serves it) with
// `credentials: "include"`, the way an app at https://app.example.com calls a deployed API.
//
// Proves, in a real browser, what tests/e2e can only simulate with hand-written headers:
//   1. the refresh cookie is stored for the API with the stage-prefixed path (Path=/v1/auth),
//      invisible to page script (HttpOnly), and so is the device cookie; the access token never
//      touches localStorage, sessionStorage or document.cookie;
//   2. an expired access token is refreshed by the page through that cookie (sent on refresh
//      across origins), and the call retried: 401 → refresh → retry;
//   4. a page from an origin not in the allowed list cannot read any answer (CORS) and cannot
//      refresh with the user's cookie (CSRF check), and its attempt does not disturb the session;
//   3. after the page's logout the refresh cookie is gone from the browser's store (the device
//      cookie, not a session, stays), and the old access token and refresh cookie are both dead.
// (4 runs before 3 because it needs a live session.)
//
// Run against a stack started with short lifetimes (see tests/browser/README.md):
//   TOKENGATE_API_URL=http://localhost:3002/v1 TOKENGATE_APP_URL=http://localhost:3001 \
//     node tests/browser/demo.test.mjs
// Exit code 0 when every property holds; otherwise 1 and a message saying which did not.

import http from "node:http";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

for (const name of ["TOKENGATE_API_URL", "TOKENGATE_APP_URL"]) {
  if (!URL.canParse(process.env[name] ?? "")) {
    console.error("FAIL: set TOKENGATE_API_URL to the API under its stage (e.g. http://localhost:3002/v1) " +
      "and TOKENGATE_APP_URL to the demo app (e.g. http://localhost:3001)");
    process.exit(2);
  }
}
/** The API's base URL, stage prefix included, and its parts. */
const API = process.env.TOKENGATE_API_URL.replace(/\/$/, "");
const API_ORIGIN = new URL(API).origin;
const STAGE = new URL(API).pathname; // "/v1"
/** The app's origin: another port than the API, so another origin (the same site). */
const APP = new URL(process.env.TOKENGATE_APP_URL).origin;
const USER = process.env.TOKENGATE_DEMO_USER ?? "alice";
const PASSWORD = process.env.TOKENGATE_DEMO_PASSWORD ?? "alice-demo-password";
const CHROMIUM = process.env.TOKENGATE_CHROMIUM ?? "/usr/bin/chromium";
const COOKIE = "__Secure-refresh_token";
/** The device credential a successful login leaves in the browser (docs/security.md, "Lockout model"). */
const DEVICE_COOKIE = "__Secure-device";
/** Every authorizer instance refuses a revoked token this soon after the revoking answer. */
const REVOCATION_BOUND_MS = 1_000;
/** How long one page interaction may take once every function is warm. */
const STEP_TIMEOUT_MS = 20_000;

class Failure extends Error {}
function check(condition, message) {
  if (!condition) throw new Failure(message);
}
const proven = (n, text) => console.log(`ok ${n} - ${text}`);

/** The claims of a JWT (`exp`, `sub`, `sid`); read only, the test verifies no signature. */
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

// ---------------------------------------------------------------------------------------------
// Direct HTTP calls (no browser): warm-up and replaying captured credentials.

function api(method, route, { headers = {}, body } = {}) {
  const data = body === undefined ? null : JSON.stringify(body);
  if (data) headers = { ...headers, "content-type": "application/json" };
  // node:http rather than fetch: fetch gives up after 300 s without response headers, and
  // `cargo lambda watch` may build a function on its first call for longer than that.
  return new Promise((resolve, reject) => {
    const req = http.request(API + route, { method, headers, timeout: 1_200_000 }, (resp) => {
      let text = "";
      resp.setEncoding("utf8");
      resp.on("data", (chunk) => { text += chunk; });
      resp.on("end", () => {
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          // Non-JSON bodies are reported as null.
        }
        const cookie = (resp.headers["set-cookie"] ?? [])
          .map((c) => c.split(";")[0])
          .find((c) => c.startsWith(COOKIE + "="));
        resolve({ status: resp.statusCode, json, cookie, headers: resp.headers });
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer in 20 minutes")));
    req.on("error", reject);
    req.end(data ?? undefined);
  });
}

/** Touches every function so no page step below waits for a cold start: the access token
 *  lives only a few seconds in the test stack. The first round may outlast that token (a
 *  function's first start can take minutes), so only the second round's answers count. */
async function warmUp() {
  for (const round of [1, 2]) {
    let login;
    try {
      login = await api("POST", "/auth/login", { body: { username: USER, password: PASSWORD } });
    } catch (e) {
      throw new Failure(`API ${API} unreachable (${e.code ?? e.message}); is the stack up?`);
    }
    check(login.status === 200, `warm-up login as ${USER} → ${login.status} ${JSON.stringify(login.json)}; ` +
      "is the stack seeded (tokengate seed-demo) and are TOKENGATE_DEMO_USER/PASSWORD right?");
    const me = await api("GET", "/api/me", { headers: { authorization: `Bearer ${login.json.access_token}` } });
    const refreshed = await api("POST", "/auth/refresh", { headers: { cookie: login.cookie, origin: APP } });
    const out = await api("POST", "/auth/logout", {
      headers: {
        cookie: refreshed.cookie ?? login.cookie,
        origin: APP,
        authorization: `Bearer ${refreshed.json?.access_token ?? login.json.access_token}`,
      },
    });
    if (round === 2) {
      check(me.status === 200, `warm-up GET /api/me → ${me.status}; is the access-token lifetime too short?`);
      check(refreshed.status === 200, `warm-up refresh → ${refreshed.status} ${JSON.stringify(refreshed.json)}; ` +
        `is ${APP} in TOKENGATE_ALLOWED_ORIGINS?`);
      check(out.status === 204, `warm-up logout → ${out.status}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What the browser sent and received, from Chromium's own network log (CDP). Playwright's
// request events hide requests that CORS failed, which are exactly the attacker's.

/** Records a page's requests to the API's routes (paths reported without the stage prefix).
 *  `take()` returns, in order, what was seen since the previous `take()`, once every request
 *  has finished or failed. CORS preflights (OPTIONS) are kept apart, in `preflights`. */
async function recordNetwork(page) {
  const cdp = await page.context().newCDPSession(page);
  const byId = new Map();
  let order = [];
  const preflights = [];
  const entry = (id) => {
    if (!byId.has(id)) {
      let finish;
      const done = new Promise((resolve) => { finish = resolve; });
      byId.set(id, { id, done, finish, sent: {}, received: {}, body: null });
    }
    return byId.get(id);
  };
  const lower = (headers) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const watched = (url) => {
    const u = new URL(url);
    return u.origin === API_ORIGIN && u.pathname.startsWith(STAGE + "/") &&
      /^\/(auth|api)\//.test(u.pathname.slice(STAGE.length));
  };
  cdp.on("Network.requestWillBeSent", (e) => {
    if (!watched(e.request.url)) return;
    const r = entry(e.requestId);
    Object.assign(r, { method: e.request.method, url: e.request.url, script: lower(e.request.headers) });
    (r.method === "OPTIONS" ? preflights : order).push(r);
  });
  // The headers as sent on the wire, Cookie and Origin included (added below the page).
  cdp.on("Network.requestWillBeSentExtraInfo", (e) => { entry(e.requestId).sent = lower(e.headers); });
  // Status and headers as received, also when CORS then keeps the response from the page.
  cdp.on("Network.responseReceivedExtraInfo", (e) => {
    Object.assign(entry(e.requestId), { status: e.statusCode, received: lower(e.headers) });
  });
  cdp.on("Network.loadingFinished", (e) => entry(e.requestId).finish());
  cdp.on("Network.loadingFailed", (e) => {
    const r = entry(e.requestId);
    r.failure = e.corsErrorStatus ? `CORS ${e.corsErrorStatus.corsError}` : e.errorText;
    r.finish();
  });
  // The network log drops the bodies of CORS-blocked responses, so read every body at the
  // response stage, before the browser decides whether the page may see it.
  cdp.on("Fetch.requestPaused", async (e) => {
    try {
      const { body, base64Encoded } = await cdp.send("Fetch.getResponseBody", { requestId: e.requestId });
      entry(e.networkId).body = Buffer.from(body, base64Encoded ? "base64" : "utf8").toString();
    } catch {
      // No body (204).
    }
    await cdp.send("Fetch.continueResponse", { requestId: e.requestId }).catch(() => {});
  });
  await cdp.send("Network.enable");
  await cdp.send("Fetch.enable", {
    patterns: ["/auth/*", "/api/*"].map((p) => ({ urlPattern: API + p, requestStage: "Response" })),
  });
  return {
    /** The preflights seen so far, described. */
    async preflights() {
      await Promise.all(preflights.map((r) => r.done));
      return preflights.map(describe);
    },
    async take() {
      const taken = order;
      order = [];
      await Promise.all(taken.map((r) => r.done));
      await sleep(100); // extra-info events may trail the end of loading
      return taken.map(describe);
    },
  };
}

function describe(r) {
  let body = null;
  try {
    body = JSON.parse(r.body || "null");
  } catch {
    // Not JSON: reported as null.
  }
  const authorization = r.sent.authorization ?? r.script.authorization ?? "";
  return {
    method: r.method,
    path: new URL(r.url).pathname.slice(STAGE.length),
    url: r.url,
    status: r.status ?? null,
    failure: r.failure ?? null,
    origin: r.sent.origin ?? null,
    cookie: cookieValue(r.sent.cookie),
    bearer: authorization.replace(/^Bearer /, "") || null,
    setCookie: r.received["set-cookie"] ?? null,
    allowOrigin: r.received["access-control-allow-origin"] ?? null,
    allowCredentials: r.received["access-control-allow-credentials"] ?? null,
    body,
  };
}

/** The refresh token in a Cookie request header, if any. */
function cookieValue(header) {
  const pair = (header ?? "").split(/;\s*/).find((p) => p.startsWith(COOKIE + "="));
  return pair ? pair.slice(COOKIE.length + 1) : null;
}

const summary = (log) => log.map((r) => `${r.method} ${r.path} ${r.status}`).join(", ") || "(none)";

// ---------------------------------------------------------------------------------------------
// A page of another origin whose script tries to refresh with the user's cookie.

function startAttackerServer() {
  const server = http.createServer((req, res) => {
    const page = `<!doctype html><meta charset="utf-8"><title>another origin</title>
<script>
// Exactly what a malicious page can do: send the browser's cookies along, read the answer.
const read = (p) => p.then(async (r) => ({ readable: true, status: r.status, body: await r.text() }),
                           (e) => ({ readable: false, error: String(e) }));
const url = ${JSON.stringify(API + "/auth/refresh")};
// A simple request (no preflight): it reaches the API with the cookie; CORS hides the answer.
window.attempt = read(fetch(url, { method: "POST", credentials: "include" }));
// One that needs a preflight (JSON): the preflight grants nothing, so it is never sent.
window.preflighted = window.attempt.then(() => read(fetch(url, {
  method: "POST", credentials: "include", headers: { "content-type": "application/json" }, body: "{}",
})));
</script>`;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// ---------------------------------------------------------------------------------------------

async function main() {
  await warmUp();

  const attacker = await startAttackerServer();
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), "tokengate-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    });
    await run(context, attacker.address().port);
  } finally {
    await context?.close();
    attacker.close();
    await rm(userDataDir, { recursive: true, force: true });
  }
}

async function run(context, attackerPort) {
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const net = await recordNetwork(page);
  const cookiePath = STAGE + "/auth";
  const jarCookie = async () =>
    (await context.cookies(API + "/auth/refresh")).find((c) => c.name === COOKIE);
  const jarDevice = async () =>
    (await context.cookies(API + "/auth/login")).find((c) => c.name === DEVICE_COOKIE);
  /** Every token the page was handed; none may show up in the app's storage. */
  const handed = [];

  /** Clicks a control of the demo page and waits for the page to show its result. */
  async function clickAndShow(selector, resultPrefix, label = selector) {
    await page.$eval("#out", (el) => { el.textContent = "(waiting)"; });
    await page.click(selector);
    await page.waitForFunction(() => document.getElementById("out").textContent !== "(waiting)");
    const shown = await page.textContent("#out");
    const log = await net.take();
    check(shown.startsWith(resultPrefix),
      `${label}: after clicking ${selector} the page shows ${JSON.stringify(shown.split("\n")[0])}, ` +
      `expected ${JSON.stringify(resultPrefix)}; requests: ${summary(log)}`);
    for (const r of log) {
      if (r.body?.access_token) handed.push(r.body.access_token);
    }
    return { shown, log };
  }

  /** The app's script-visible storage holds no access token (nor the refresh cookie). */
  async function expectNoTokenInStorage(when) {
    const stored = await page.evaluate(() => ({
      localStorage: JSON.stringify({ ...localStorage }),
      sessionStorage: JSON.stringify({ ...sessionStorage }),
      cookie: document.cookie,
    }));
    const cookie = (await jarCookie())?.value;
    for (const [where, text] of Object.entries(stored)) {
      for (const secret of [...handed, cookie].filter(Boolean)) {
        check(!text.includes(secret), `${when}: ${where} holds a token: ${text.slice(0, 80)}`);
      }
      check(!/eyJ[\w-]+\.eyJ/.test(text), `${when}: ${where} holds something JWT-shaped`);
    }
  }

  /** Waits until the access token `jwt` has expired by the server's clock (same machine). */
  async function waitForExpiry(jwt) {
    await sleep(Math.max(0, claims(jwt).exp * 1000 - Date.now()) + 1_000);
  }

  /** With an expired access token, "Call /api/me" must go 401 → refresh → retry 200.
   *  Returns the new access token. */
  async function expectAutoRefresh(expiredToken, label) {
    const cookieBefore = (await jarCookie())?.value;
    check(cookieBefore, `${label}: the browser holds no refresh cookie before the call`);
    const refreshesBefore = await page.evaluate(() => window.demo.refreshes);
    const { shown, log } = await clickAndShow("#me", "GET /api/me → 200", label);
    check(summary(log) === "GET /api/me 401, POST /auth/refresh 200, GET /api/me 200",
      `${label}: expected GET /api/me 401, POST /auth/refresh 200, GET /api/me 200; saw ${summary(log)}`);
    const [expired, refresh, retry] = log;
    check(log.every((r) => r.url.startsWith(API + "/")), `${label}: a call missed the stage prefix ${STAGE}`);
    check(expired.bearer === expiredToken, `${label}: the first call did not carry the expired token`);
    // API Gateway's own 401 (the authorizer refused the token) is readable by the app.
    check(expired.allowOrigin === APP, `${label}: the 401 granted ${expired.allowOrigin}, not ${APP}`);
    check(refresh.cookie === cookieBefore, `${label}: the refresh did not carry the browser's refresh cookie`);
    check(refresh.origin === APP, `${label}: the refresh carried Origin ${refresh.origin}`);
    check(refresh.allowOrigin === APP && refresh.allowCredentials === "true",
      `${label}: the refresh answer granted ${refresh.allowOrigin} / credentials ${refresh.allowCredentials}`);
    check(refresh.body?.access_token && !("refresh_token" in refresh.body),
      `${label}: the refresh answer has no access token, or exposes the refresh token to script`);
    check(retry.bearer === refresh.body.access_token, `${label}: the retry did not use the new token`);
    const me = JSON.parse(shown.slice(shown.indexOf("\n") + 1));
    check(me.sub === claims(expiredToken).sub && me.sid === claims(expiredToken).sid,
      `${label}: the page shows ${JSON.stringify(me)}, not the signed-in session`);
    const cookieAfter = (await jarCookie())?.value;
    check(cookieAfter && cookieAfter !== cookieBefore, `${label}: the refresh cookie was not rotated`);
    check((await page.evaluate(() => window.demo.refreshes)) === refreshesBefore + 1,
      `${label}: the page did not count exactly one refresh`);
    await expectNoTokenInStorage(label);
    return refresh.body.access_token;
  }

  // --- sign in through the page, from the app's origin -----------------------------------------
  await page.goto(APP + "/");
  check((await page.textContent("#api")) === API, `the app page calls ${await page.textContent("#api")}, not ${API}`);
  await page.fill("#username", USER);
  await page.fill("#password", PASSWORD);
  const login = await clickAndShow("#login-button", "POST /auth/login → 200", "login");
  const loginResp = login.log.find((r) => r.path === "/auth/login");
  let access = loginResp.body.access_token;
  check(access, "the login answer carries no access token");
  check(loginResp.origin === APP && loginResp.allowOrigin === APP && loginResp.allowCredentials === "true",
    `login from ${APP}: Origin ${loginResp.origin}, granted ${loginResp.allowOrigin} / ${loginResp.allowCredentials}`);

  // A fresh token is used as is: no refresh while it is valid (so the refresh below is caused
  // by expiry, not done on every call).
  const fresh = await clickAndShow("#me", "GET /api/me → 200", "fresh token");
  check(summary(fresh.log) === "GET /api/me 200",
    `with a fresh token expected only GET /api/me 200, saw ${summary(fresh.log)} ` +
    `(token exp ${claims(access).exp}, now ${Date.now() / 1000}: is the stack too slow for its TTL?)`);
  // The bearer call and the JSON posts needed preflights; each was granted to the app without
  // reaching the authorizer (OPTIONS routes have none) or the handler.
  const preflights = await net.preflights();
  check(preflights.some((p) => p.path === "/api/me") && preflights.some((p) => p.path === "/auth/login"),
    `expected preflights of /auth/login and /api/me, saw ${summary(preflights)}`);
  for (const p of preflights) {
    check(p.status === 204 && p.allowOrigin === APP,
      `preflight ${p.path}: ${p.status}, granted ${p.allowOrigin}`);
  }

  // --- 1. the refresh cookie: stage-prefixed path, out of script's reach ------------------------
  const held = await jarCookie();
  check(held, `the browser holds no ${COOKIE} for ${API} after login ` +
    "(Chromium keeps Secure cookies over plain http only for localhost and loopback addresses)");
  check(held.httpOnly && held.secure && held.sameSite === "Strict" && held.path === cookiePath &&
    held.domain === new URL(API).hostname,
    `the refresh cookie's attributes are ${JSON.stringify({ ...held, value: "…" })}, expected Path=${cookiePath}`);
  check(!("refresh_token" in loginResp.body), "the login answer hands the refresh token to script");
  // Cookies ignore ports: a document of the app's origin under the cookie's path would see the
  // API's cookie if it were not HttpOnly. The app's script can reach such a document through an
  // iframe (the app server answers 404 there); a probe cookie set the same way shows that
  // reading works.
  const seen = await page.evaluate(async (path) => {
    document.cookie = `tokengate_probe=visible; path=${path}`;
    const frame = document.createElement("iframe");
    frame.src = `${path}/cookie-probe`;
    await new Promise((loaded) => { frame.onload = loaded; document.body.append(frame); });
    const underAuth = frame.contentDocument.cookie;
    frame.remove();
    document.cookie = `tokengate_probe=; path=${path}; max-age=0`;
    return { root: document.cookie, underAuth };
  }, cookiePath);
  check(seen.underAuth.includes("tokengate_probe=visible"),
    `the ${cookiePath} probe cannot read even a script-set cookie (${JSON.stringify(seen.underAuth)}), so it proves nothing`);
  check(!seen.root.includes(COOKIE) && !seen.underAuth.includes(COOKIE) && !seen.underAuth.includes(held.value),
    `page script can read the refresh cookie: ${JSON.stringify(seen)}`);
  const device = await jarDevice();
  check(device && device.httpOnly && device.secure && device.sameSite === "Strict" &&
    device.path === cookiePath && !seen.underAuth.includes(DEVICE_COOKIE),
    `the device cookie after login: ${JSON.stringify(device && { ...device, value: "…" })}, ` +
    `expected HttpOnly, Secure, SameSite=Strict, Path=${cookiePath}, out of script's reach`);
  await expectNoTokenInStorage("after login");
  proven(1, `the browser holds ${COOKIE} for ${new URL(API).host} (HttpOnly, Secure, SameSite=Strict, ` +
    `Path=${cookiePath}), and ${DEVICE_COOKIE} alike; no script of the app reads them, and no access ` +
    "token is in localStorage, sessionStorage or document.cookie");

  // --- 2. the page refreshes by itself when the access token has expired ----------------------
  await waitForExpiry(access);
  access = await expectAutoRefresh(access, "auto refresh");
  proven(2, `with the access token expired, the app at ${APP} went GET ${STAGE}/api/me 401 → ` +
    `POST ${STAGE}/auth/refresh 200 (cookie sent across origins, rotated) → GET ${STAGE}/api/me 200`);

  // --- 4. an origin not in the list can neither read nor refresh -------------------------------
  // A foreign origin's preflight is answered without any grant.
  const foreignPreflight = await api("OPTIONS", "/auth/refresh", {
    headers: { origin: "http://localhost:1", "access-control-request-method": "POST" },
  });
  check(foreignPreflight.status === 204 && !foreignPreflight.headers["access-control-allow-origin"],
    `a foreign preflight got ${foreignPreflight.status} granting ${foreignPreflight.headers["access-control-allow-origin"]}`);
  const apiHost = new URL(API).hostname;
  const otherHost = apiHost === "localhost" ? "127.0.0.1" : "localhost";
  // Same host, other port: another origin but the same site, so SameSite=Strict does not stop
  // the cookie and only the server's Origin check stands in the way. The other host is
  // another site altogether: the browser should not even send the cookie.
  const attackers = [`http://${apiHost}:${attackerPort}`, `http://${otherHost}:${attackerPort}`];
  const outcomes = [];
  for (const origin of attackers) {
    const cookieBefore = (await jarCookie()).value;
    const evil = await context.newPage();
    const evilNet = await recordNetwork(evil);
    await evil.goto(origin + "/");
    const attempt = await evil.evaluate(() => window.attempt);
    const preflighted = await evil.evaluate(() => window.preflighted);
    const log = (await evilNet.take()).filter((r) => r.status !== null);
    await evil.close();
    check(log.length === 1 && log[0].path === "/auth/refresh",
      `the page at ${origin} got requests ${summary(log)} through, expected one POST /auth/refresh`);
    const [r] = log;
    check(!attempt.readable, `script at ${origin} read the refresh answer: ${JSON.stringify(attempt)}`);
    check(!preflighted.readable, `script at ${origin} read a preflighted answer: ${JSON.stringify(preflighted)}`);
    check(r.allowOrigin === null, `the answer to ${origin} granted CORS to ${r.allowOrigin}`);
    check(r.status !== 200 && !r.body?.access_token, `the API issued a token to ${origin}: ${r.status}`);
    check(r.origin === origin, `the request from ${origin} carried Origin ${r.origin}`);
    if (r.cookie !== null) {
      check(r.status === 403 && r.body?.error === "csrf_rejected",
        `the cookie-carrying request from ${origin} got ${r.status} ${JSON.stringify(r.body)}, expected 403 csrf_rejected`);
    }
    check(r.setCookie === null, `the answer to ${origin} set a cookie: ${r.setCookie}`);
    check((await jarCookie())?.value === cookieBefore, `the attempt from ${origin} changed the browser's refresh cookie`);
    outcomes.push(`${origin}: ${r.cookie !== null ? "cookie sent" : "cookie not sent"}, ` +
      `${r.status} ${r.body?.error ?? ""}, unreadable by script (${r.failure ?? attempt.error}); ` +
      "its JSON request was stopped at the preflight");
  }
  // Without at least one cookie-carrying attempt the server's CSRF check was never exercised.
  check(outcomes.some((o) => o.includes("cookie sent")),
    "no attacker request carried the cookie, so the server's Origin check was not tested");
  // The session the attacker aimed at is intact: not rotated (same cookie, checked above), not
  // revoked (the page still refreshes with it).
  await waitForExpiry(access);
  access = await expectAutoRefresh(access, "refresh after the attack");
  proven(4, `origins not allowed got no token and could read nothing [${outcomes.join("; ")}], ` +
    "and the real session still refreshes");

  // --- 3. logout ends access and clears the cookie from the browser ----------------------------
  // Keep the live credentials to replay them after logout: the page forgets its own copies, so
  // only a replay shows that the server ended them.
  const oldCookie = await jarCookie();
  check((await api("GET", "/api/me", { headers: { authorization: `Bearer ${access}` } })).status === 200,
    "the access token does not work just before logout");
  const logout = await clickAndShow("#logout", "POST /auth/logout → 204", "logout");
  check(logout.log[0]?.cookie === oldCookie.value && logout.log[0]?.bearer === access,
    "the logout request did not carry the refresh cookie and the access token");
  check(!(await jarCookie()), "the browser still holds the refresh cookie after logout");
  check((await context.cookies()).every((c) => c.name !== COOKIE),
    "a refresh cookie is left in the browser's store after logout");
  // The device credential is not a session: it stays, so this browser keeps its exemption from
  // a lockout others hold on the account.
  check((await jarDevice())?.value === device.value, "logout removed or changed the device cookie");
  // The old access token is refused while it has not yet expired: it was revoked, not aged out.
  // Every authorizer instance refuses it within REVOCATION_BOUND_MS of the logout's answer (each
  // catches up with the revocation feed at most every 0.9 s): replay it until one refuses.
  const loggedOut = Date.now();
  let replayAccess;
  for (;;) {
    const sent = Date.now();
    replayAccess = await api("GET", "/api/me", { headers: { authorization: `Bearer ${access}` } });
    if (replayAccess.status !== 200) break;
    check(sent - loggedOut < REVOCATION_BOUND_MS,
      `the access token still works ${sent - loggedOut} ms after logout`);
  }
  const stillValid = Date.now() / 1000 < claims(access).exp;
  check(replayAccess.status === 401, `the access token still works after logout: ${replayAccess.status}`);
  check(stillValid, "the access token expired before it could be replayed; the stack is too slow to tell " +
    "revocation from expiry");
  // The page itself: the call fails and its refresh is refused (it has no cookie left).
  const after = await clickAndShow("#me", "GET /api/me → 401", "after logout");
  check(summary(after.log) === "GET /api/me 401, POST /auth/refresh 401",
    `after logout expected GET /api/me 401, POST /auth/refresh 401; saw ${summary(after.log)}`);
  check(after.log[1].cookie === null, "after logout the page's refresh still carried a refresh cookie");
  // Put the old cookie back into the browser: the page's refresh with it is refused too.
  await context.addCookies([{ ...oldCookie }]);
  const replayed = await clickAndShow("#me", "GET /api/me → 401", "old cookie put back after logout");
  const replayRefresh = replayed.log.find((r) => r.path === "/auth/refresh");
  check(replayRefresh?.cookie === oldCookie.value && replayRefresh.status === 401 &&
    replayRefresh.body?.error === "invalid_refresh_token",
    `refresh with the logged-out cookie: ${replayRefresh?.status} ${JSON.stringify(replayRefresh?.body)}, ` +
    "expected 401 invalid_refresh_token with the cookie sent");
  await expectNoTokenInStorage("after logout");
  proven(3, "after the page's logout the refresh cookie is gone from the browser's store (the device " +
    "cookie stays), /api/me is 401 for " +
    "the page and for the old (unexpired) access token, and a refresh with the old cookie is refused " +
    "(invalid_refresh_token)");

  check(pageErrors.length === 0, `the demo page threw: ${pageErrors.join("; ")}`);
}

try {
  await main();
  console.log("browser demo test passed");
} catch (e) {
  console.error(e instanceof Failure ? `FAIL: ${e.message}` : e);
  process.exit(1);
}
