#!/usr/bin/env bash
# The whole tokengate API on this machine: AWS API emulator, table + keys, demo users,
# the functions under `cargo lambda watch`, and the local API gateway with the authorizer.
# Ctrl-C stops everything. Run through `make dev` (which prepares .venv first).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STATE=${DEV_STATE:-.dev}
MOTO_PORT=${MOTO_PORT:-5555}
LAMBDA_PORT=${LAMBDA_PORT:-9000}
GATEWAY_ADDR=${GATEWAY_ADDR:-127.0.0.1:3000}
# The execute-api layout: the API under the stage prefix (/v1) on a gateway of its own, and the
# browser demo as an app on another origin calling it across origins.
STAGE_GATEWAY_ADDR=${STAGE_GATEWAY_ADDR:-127.0.0.1:3002}
APP_ADDR=${APP_ADDR:-127.0.0.1:3001}
# The functions' AWS endpoint; the emulator unless set (the end-to-end test puts a
# fault-injecting proxy in between to take DynamoDB down).
FUNCTIONS_AWS_ENDPOINT_URL=${FUNCTIONS_AWS_ENDPOINT_URL:-}
# Short lifetimes make the expiry and refresh flow visible in seconds; override as you like.
ACCESS_TTL=${TOKENGATE_ACCESS_TTL_SECONDS:-60}
GRACE=${TOKENGATE_REFRESH_GRACE_SECONDS:-10}
LEEWAY=${TOKENGATE_LEEWAY_SECONDS:-30}
IP_LIMIT=${TOKENGATE_IP_LIMIT:-30}
KEYRING_REFRESH=${TOKENGATE_KEYRING_REFRESH_SECONDS:-60}
# The demo's rules; set TOKENGATE_ROUTE_ROLES to try your own (docs/route-rules.md).
ROUTE_ROLES=${TOKENGATE_ROUTE_ROLES:-"GET /api/me=;* /api/admin/*=admin"}
# A few scopes, two clients and two resource servers: this stack's own (aud `api`, what its
# authorizer accepts) and a reports service elsewhere (docs/configuration.md, "Clients, scopes
# and resource servers").
SCOPES=${TOKENGATE_SCOPES:-"profile:read=;orders:read=;orders:write=admin"}
CLIENTS=${TOKENGATE_CLIENTS:-"id=web,kind=browser,scopes=profile:read orders:read orders:write,default=profile:read,resources=api https://reports.localhost;id=cli,kind=native,scopes=profile:read orders:read,default=profile:read,resources=api"}

# The browser apps: the demo app's origin first (API Gateway's own 401/403/503 answers grant the
# first origin only, docs/browser-apps.md), under both loopback names, then the root
# gateway's own origin for the demo page it serves itself.
ALLOWED_ORIGINS="http://localhost:${APP_ADDR##*:},http://${APP_ADDR},http://localhost:${GATEWAY_ADDR##*:},http://$GATEWAY_ADDR"

mkdir -p "$STATE"

# The API as CloudFormation deploys it, read by both gateways: template.yaml through SAM's own
# transform with the template's parameters as deployed here (the allowed origins above, then any
# of yours in TOKENGATE_GATEWAY_PARAMETERS, e.g. `AuthorizerCache=route`). First, so that a bad
# parameter stops `make dev` at once.
echo "transforming template.yaml with SAM's transform"
"$VENV/bin/python3" scripts/sam_transform.py \
  --parameter-overrides "AllowedOrigins=$ALLOWED_ORIGINS ${TOKENGATE_GATEWAY_PARAMETERS:-}" \
  template.yaml > "$STATE/template.cfn.json"
unset TOKENGATE_GATEWAY_PARAMETERS
export TOKENGATE_GATEWAY_TEMPLATE="$STATE/template.cfn.json"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping the local stack"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

wait_for_port() { # host port what
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "error: $3 did not start on $1:$2 (logs in $STATE/)" >&2
  exit 1
}

echo "starting the AWS API emulator on 127.0.0.1:$MOTO_PORT"
"$VENV/bin/python3" scripts/emulator.py -H 127.0.0.1 -p "$MOTO_PORT" > "$STATE/emulator.log" 2>&1 &
pids+=($!)
wait_for_port 127.0.0.1 "$MOTO_PORT" "the emulator"

export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export TOKENGATE_TABLE=tokengate TOKENGATE_FEED_TABLE=tokengate-feed

FUNCTIONS=(login refresh logout password authorizer jwks me)

echo "building the functions, the admin CLI and the gateway (first run takes a few minutes)"
# One build of everything. `cargo lambda watch` later starts each function with
# `cargo run --bin <function>`, which finds it fresh: the workspace-hack crate (cargo-hakari)
# gives every selection of workspace crates the same dependency features.
cargo build --quiet $(printf -- '-p %s ' "${FUNCTIONS[@]}") -p tokengate-admin -p tokengate-gateway

echo "creating the table, the keys and the signing keyring"
target/debug/tokengate bootstrap --stack tokengate-local --env-file "$STATE/aws.env" > /dev/null
cat "$STATE/aws.env" - > "$STATE/env" <<ENV
AWS_ENDPOINT_URL=${FUNCTIONS_AWS_ENDPOINT_URL:-$AWS_ENDPOINT_URL}
AWS_REGION=$AWS_REGION
AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
TOKENGATE_ISSUER=http://localhost:${GATEWAY_ADDR##*:}
TOKENGATE_AUDIENCE=api
TOKENGATE_ACCESS_TTL_SECONDS=$ACCESS_TTL
TOKENGATE_REFRESH_GRACE_SECONDS=$GRACE
TOKENGATE_LEEWAY_SECONDS=$LEEWAY
TOKENGATE_IP_LIMIT=$IP_LIMIT
TOKENGATE_KEYRING_REFRESH_SECONDS=$KEYRING_REFRESH
TOKENGATE_ALLOWED_ORIGINS=$ALLOWED_ORIGINS
TOKENGATE_ROUTE_ROLES="$ROUTE_ROLES"
TOKENGATE_SCOPES="$SCOPES"
TOKENGATE_CLIENTS="$CLIENTS"
RUST_LOG=${RUST_LOG:-info}
ENV
# Every other documented setting (docs/configuration.md) given in this shell reaches the
# functions as well, e.g. `TOKENGATE_LOCKOUT_THRESHOLD=3 make dev`. The gateway's own variables
# are not function settings.
env | LC_ALL=C sort | while IFS='=' read -r name value; do
  case $name in
    TOKENGATE_GATEWAY_* | TOKENGATE_LAMBDA_URL | TOKENGATE_APP_ADDR) continue ;;
    TOKENGATE_*) grep -q "^$name=" "$STATE/env" && continue ;;
    *) continue ;;
  esac
  value=${value//\\/\\\\}
  printf '%s="%s"\n' "$name" "${value//\"/\\\"}" >> "$STATE/env"
done

echo "seeding demo users"
target/debug/tokengate seed-demo | tee "$STATE/demo-users.txt"

echo "starting cargo lambda watch on 127.0.0.1:$LAMBDA_PORT"
"$VENV/bin/cargo-lambda" lambda watch --quiet --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" \
  --env-file "$STATE/env" > "$STATE/functions.log" 2>&1 &
pids+=($!)
wait_for_port 127.0.0.1 "$LAMBDA_PORT" "cargo lambda watch"

# Two layouts of the one API, as a user deploys it (docs/browser-apps.md), in front of the same
# functions:
# - at the root, as a custom domain with a root base-path mapping serves the API; the browser
#   demo page there calls `/auth/...` on its own origin;
# - under /v1 as the execute-api URL serves it (no TOKENGATE_GATEWAY_CUSTOM_DOMAIN), with the
#   demo as an app on another origin (TOKENGATE_APP_ADDR) calling it with CORS.
export TOKENGATE_LAMBDA_URL="http://127.0.0.1:$LAMBDA_PORT"
echo "starting the local API gateway on http://$GATEWAY_ADDR (root) and http://$STAGE_GATEWAY_ADDR (/v1)"
TOKENGATE_GATEWAY_ADDR=$GATEWAY_ADDR TOKENGATE_GATEWAY_CUSTOM_DOMAIN=localhost \
  target/debug/tokengate-gateway > "$STATE/gateway.log" 2>&1 &
pids+=($!)
TOKENGATE_GATEWAY_ADDR=$STAGE_GATEWAY_ADDR TOKENGATE_APP_ADDR=$APP_ADDR \
  target/debug/tokengate-gateway > "$STATE/gateway-v1.log" 2>&1 &
pids+=($!)
wait_for_port "${GATEWAY_ADDR%:*}" "${GATEWAY_ADDR##*:}" "the gateway"
wait_for_port "${STAGE_GATEWAY_ADDR%:*}" "${STAGE_GATEWAY_ADDR##*:}" "the /v1 gateway"
wait_for_port "${APP_ADDR%:*}" "${APP_ADDR##*:}" "the demo app"

# `cargo lambda watch` starts a function on its first invocation. Start all seven now, with
# requests that change nothing, so the stack is ready when this script says so.
echo "starting every function"
URL="http://localhost:${GATEWAY_ADDR##*:}"
GW="http://$GATEWAY_ADDR"
answers() { # function expected-status command...
  local fn=$1 want=$2 got
  shift 2
  got=$("$@" -s -o /dev/null -w '%{http_code}' --max-time 600) || got="no answer"
  if [ "$got" != "$want" ]; then
    echo "error: $fn answered $got, not $want, when starting (logs in $STATE/)" >&2
    return 1
  fi
}
warm=()
answers login 400 curl -X POST -H 'content-type: application/json' -d '{}' "$GW/auth/login" & warm+=($!)
answers refresh 401 curl -X POST "$GW/auth/refresh" & warm+=($!)
answers logout 204 curl -X POST "$GW/auth/logout" & warm+=($!)
answers jwks 200 curl "$GW/.well-known/jwks.json" & warm+=($!)
answers authorizer 401 curl -H 'authorization: Bearer not-a-token' "$GW/api/me" & warm+=($!)
# No route reaches `me` without a valid token: invoke it directly with its sample event.
(
  me=$(curl -s --max-time 600 -X POST --data-binary @events/me.json \
    "http://127.0.0.1:$LAMBDA_PORT/2015-03-31/functions/me/invocations") || me="no answer"
  case $me in
    *'"statusCode":200'*) ;;
    *) echo "error: me answered ${me:0:200} when starting (logs in $STATE/)" >&2; exit 1 ;;
  esac
) & warm+=($!)
# The password change sits behind the authorizer too: invoke it with its sample event minus
# the authorizer context, which it refuses (401) without looking anything up.
(
  event=$("$VENV/bin/python3" -c 'import json; e = json.load(open("events/password.json")); del e["requestContext"]["authorizer"]; print(json.dumps(e))')
  pw=$(curl -s --max-time 600 -X POST --data-binary "$event" \
    "http://127.0.0.1:$LAMBDA_PORT/2015-03-31/functions/password/invocations") || pw="no answer"
  case $pw in
    *'"statusCode":401'*) ;;
    *) echo "error: password answered ${pw:0:200} when starting (logs in $STATE/)" >&2; exit 1 ;;
  esac
) & warm+=($!)
for pid in "${warm[@]}"; do wait "$pid" || exit 1; done
# A preflight through the /v1 gateway: the OPTIONS route reaches refresh without the authorizer.
APP="http://localhost:${APP_ADDR##*:}"
STAGE_URL="http://localhost:${STAGE_GATEWAY_ADDR##*:}/v1"
answers preflight 204 curl -X OPTIONS -H "origin: $APP" -H 'access-control-request-method: POST' \
  "$STAGE_URL/auth/refresh" || exit 1
cat <<MSG

tokengate is running at $URL  (browser demo on the API's own origin: $URL/)
The execute-api layout: the API under the stage at $STAGE_URL, and the browser demo as an app
on another origin at $APP/ calling it with CORS (cookie Path=/v1/auth).
Demo users: alice / alice-demo-password, admin / admin-demo-password
Access tokens live ${ACCESS_TTL}s. Logs: $STATE/*.log

Try it (the cookie jar keeps the HttpOnly refresh cookie):
  TOKEN=\$(curl -s -c $STATE/jar -H 'content-type: application/json' -d '{"username":"alice","password":"alice-demo-password","client_id":"web","scope":"profile:read orders:read"}' $URL/auth/login | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s -H "authorization: Bearer \$TOKEN" $URL/api/me
  curl -s -b $STATE/jar -c $STATE/jar -H 'origin: $URL' -X POST $URL/auth/refresh

Press Ctrl-C to stop.
MSG
wait
