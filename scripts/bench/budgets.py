"""Every budget `make bench` holds a figure to, in one place (docs/performance.md says what
each figure measures and why its budget is where it is). A figure meets its budget when the
median of its runs is at most the budget; `summary.py` exits non-zero naming each one that does
not. A per-function budget (`"<figure> <function>"`) overrides the figure's own for that
function."""

BUDGETS = {
    # Authorizer decision on the in-memory twin / bare aws-lc-rs verify of the same signature.
    "authorize_es256_over_raw": 1.2,
    "authorize_rs256_over_raw": 1.1,
    # The same decision through the deployed adapters on the emulator, 100 requests/s per
    # instance: the median call (the budget) and the DynamoDB reads per decision.
    "store_authorize_es256_over_raw": 1.2,
    "store_reads_per_decision": 0.02,
    # A malformed token's refusal / bare ES256 verify.
    "reject_garbage_over_raw": 0.2,
    # Login CPU / one Argon2id verification.
    "login_over_argon2": 1.1,
    # Each function's release binary / `coldstart-baseline`.
    "init_ratio": 1.5,
    "size_ratio": 1.15,
    "zip_ratio": 1.15,
}
