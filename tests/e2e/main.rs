//! End to end over HTTP, exactly as deployed: `scripts/dev.sh` (the stack of `make dev`) on
//! free ports, driven like a client would — the seed flow, the attack suite of DESIGN.md's
//! security checklist, the browser demo in headless Chromium, and what the logs and metrics
//! show of all that.
//!
//! One stack serves every case (starting it compiles and warms six functions), so this test
//! binary has its own harness: cases run one at a time, in the order below, and the stack is
//! started on first use and stopped at the end — its logs kept if a case failed.

mod attacks;
mod browser;
mod flow;
mod forge;
mod gateway;
mod rotation;
mod stack;

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Trial};
use stack::DevStack;

type Case = fn(&'static DevStack) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every case, in running order: first what a user sees right after `make dev`, the log checks
/// and the no-rebuild check last, over everything before them.
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
        flow::the_printed_curl_lines_answer_within_five_seconds,
        flow::the_whole_flow_over_http,
        flow::refresh_token_reuse_revokes_the_family,
        flow::global_logout_ends_every_session,
        gateway::rest_api_under_the_stage_refuses_admin_routes_without_the_role,
        gateway::http_api_under_the_stage_refuses_admin_routes_without_the_role,
        gateway::dynamodb_down_fails_closed_with_503_and_retry_after,
        gateway::cors_under_the_stage_grants_the_app_origin_only,
        attacks::alg_none_in_any_spelling_is_refused,
        attacks::stripped_or_altered_signatures_are_refused,
        attacks::hs256_signed_with_the_public_key_is_refused,
        attacks::embedded_jwk_jku_x5u_and_x5c_are_refused,
        attacks::hostile_kid_is_refused,
        attacks::ecdsa_zero_overflowing_and_der_signatures_are_refused,
        attacks::reencoded_signature_of_a_revoked_token_is_refused,
        attacks::string_typed_exp_and_nbf_are_refused,
        attacks::expired_and_not_yet_valid_tokens_are_refused,
        attacks::wrong_or_missing_iss_aud_and_typ_are_refused,
        attacks::unknown_crit_and_duplicate_header_keys_are_refused,
        attacks::oversized_and_deeply_nested_tokens_are_refused,
        attacks::non_compact_forms_are_refused,
        attacks::concurrent_refreshes_agree_on_one_successor,
        attacks::csrf_on_cookie_endpoints_is_refused,
        attacks::user_enumeration_is_not_possible,
        attacks::bad_bodies_get_stable_errors,
        browser::browser_demo_in_headless_chromium,
        rotation::keys_rotate_without_a_restart,
        flow::logs_and_metrics_describe_every_request,
        flow::no_secret_reaches_the_logs,
        flow::no_function_is_compiled_after_the_stack_is_ready,
    ]
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Runtime::new().expect("tokio runtime"))
}

/// The stack, or `None` if it failed to start (reported by the first case; the others then
/// fail at once instead of starting it again).
static STACK: OnceLock<Option<DevStack>> = OnceLock::new();

fn stack() -> &'static DevStack {
    STACK
        .get_or_init(|| {
            std::panic::catch_unwind(|| runtime().block_on(DevStack::start()))
                .map_err(|_| eprintln!("e2e: the dev stack did not start"))
                .ok()
        })
        .as_ref()
        .expect("the dev stack started")
}

fn main() -> std::process::ExitCode {
    let mut args = Arguments::from_args();
    // One stack, shared state, timing-sensitive flows: strictly one case at a time.
    args.test_threads = Some(1);
    let trials = cases()
        .into_iter()
        .map(|(name, case)| {
            Trial::test(name, move || {
                runtime().block_on(case(stack()));
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Some(stack)) = STACK.get() {
        stack.stop(conclusion.has_failed());
    }
    conclusion.exit_code()
}
