//! End to end over HTTP, exactly as deployed: the local API of `make dev` (the emulator, every
//! function binary on a local Lambda service, the local API gateway), started piece by piece
//! through `tokengate_tests` on ports the kernel picks and driven like a client would — the
//! seed flow, several authorizer instances refusing a revoked token within a second and reading
//! DynamoDB at most once per ten requests under load, the deployed layouts, the attack suite's
//! smoke cases, the browser demo in headless Chromium, and what the logs and metrics show of all
//! that — and, once, `make dev` itself.
//!
//! One stack serves every case but the `make dev` one, so this test binary has its own harness:
//! cases run one at a time, in the order below, and the stack is started on first use and
//! stopped at the end — its logs kept if a case failed.

mod attacks;
mod browser;
mod deploy_check;
mod fleet;
mod flow;
mod forge;
mod gateway;
mod interop;
mod load;
mod make_dev;
mod rotation;
mod stack;

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Trial};
use stack::Stack;

type Case = fn(&'static Stack) -> Pin<Box<dyn Future<Output = ()> + Send>>;
type Alone = fn() -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every case on the shared stack, in running order; the log checks last, over everything
/// before them.
fn cases() -> Vec<(&'static str, Case)> {
    macro_rules! cases {
        ($($path:path),* $(,)?) => {
            vec![$((
                stringify!($path).rsplit("::").next().unwrap().trim(),
                (|s| Box::pin($path(s))) as Case,
            )),*]
        };
    }
    cases![
        flow::the_whole_flow_over_http,
        flow::refresh_token_reuse_revokes_the_family,
        flow::global_logout_ends_every_session,
        fleet::logout_is_refused_by_every_authorizer_within_a_second,
        fleet::global_logout_is_refused_by_every_authorizer_within_a_second,
        load::authorizers_under_steady_load_read_dynamodb_at_most_once_per_ten_requests,
        gateway::rest_api_under_the_stage_refuses_admin_routes_without_the_role,
        gateway::route_keyed_authorizer_cache_answers_each_route_on_its_own,
        gateway::http_api_under_the_stage_refuses_admin_routes_without_the_role,
        gateway::dynamodb_down_fails_closed_with_503_and_retry_after,
        gateway::cors_under_the_stage_grants_the_app_origin_only,
        attacks::forged_signatures_and_algorithms_are_refused,
        attacks::header_keys_kid_crit_and_typ_are_refused,
        attacks::claims_outside_the_policy_are_refused,
        attacks::malformed_oversized_and_nested_tokens_are_refused,
        attacks::concurrent_refreshes_agree_on_one_successor,
        attacks::csrf_on_cookie_endpoints_is_refused,
        attacks::user_enumeration_is_not_possible,
        attacks::bad_bodies_get_stable_errors,
        browser::browser_demo_in_headless_chromium,
        interop::oauth_clients_discover_refresh_verify_and_revoke,
        rotation::keys_rotate_without_a_restart,
        deploy_check::the_documented_check_answers_through_the_stage,
        flow::logs_and_metrics_describe_every_request,
        flow::no_secret_reaches_the_logs,
    ]
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Runtime::new().expect("tokio runtime"))
}

/// The stack, or `None` if it failed to start (reported by the first case; the others then
/// fail at once instead of starting it again).
static STACK: OnceLock<Option<Stack>> = OnceLock::new();

fn stack() -> &'static Stack {
    STACK
        .get_or_init(|| {
            std::panic::catch_unwind(|| runtime().block_on(Stack::start()))
                .map_err(|_| eprintln!("e2e: the local stack did not start"))
                .ok()
        })
        .as_ref()
        .expect("the local stack started")
}

fn main() -> std::process::ExitCode {
    let mut args = Arguments::from_args();
    // One stack, shared state, timing-sensitive flows: strictly one case at a time.
    args.test_threads = Some(1);
    // First what a user does first, on a stack of its own: `make dev`.
    let alone: [(&str, Alone); 1] =
        [("make_dev_is_ready_only_when_every_function_answers", || {
            Box::pin(make_dev::make_dev_is_ready_only_when_every_function_answers())
        })];
    let trials = alone
        .into_iter()
        .map(|(name, case)| {
            Trial::test(name, move || {
                runtime().block_on(case());
                Ok(())
            })
        })
        .chain(cases().into_iter().map(|(name, case)| {
            Trial::test(name, move || {
                runtime().block_on(case(stack()));
                Ok(())
            })
        }))
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Some(stack)) = STACK.get() {
        stack.stop(conclusion.has_failed());
    }
    conclusion.exit_code()
}
