"""Turns the bench's rounds (decisions.json), the peers' rounds (peers.json) and the cold
starts (coldstart.json) into ratios against baselines measured in the same run. Every figure is
the median of its runs with their range (min-max): a run is one bench round, one peers round, or
one block of interleaved cold starts. Writes target/bench/summary.json, prints a table, and
exits 1 naming every figure whose median misses its budget (budgets.py)."""
import json
import os
import platform
import statistics
import sys

from budgets import BUDGETS

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "target", "bench")
# Cold starts are grouped into this many blocks of consecutive interleaved reps; a block's
# ratio is the function's median init over the baseline's in the same reps.
COLDSTART_BLOCKS = 5
# The operations that read DynamoDB (each call counted once, whatever it returns).
READS = ("GetItem", "BatchGetItem", "Query", "Scan")


def load(name):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def figure(runs, budget=None):
    return {
        "median": statistics.median(runs),
        "min": min(runs),
        "max": max(runs),
        "runs": len(runs),
        "budget": budget,
    }


def per_round(rounds, subject, baseline, stat="median_ns"):
    return [r[subject][stat] / r[baseline][stat] for r in rounds]


def budget_for(name, function=None):
    if function and f"{name} {function}" in BUDGETS:
        return BUDGETS[f"{name} {function}"]
    return BUDGETS.get(name)


figures = {}
missing = []
decisions = load("decisions.json")
if decisions:
    rounds = decisions["rounds"]
    for key, subject, baseline in [
        ("authorize_es256_over_raw", "authorize_es256", "raw_verify_es256"),
        ("authorize_rs256_over_raw", "authorize_rs256", "raw_verify_rs256"),
        ("store_authorize_es256_over_raw", "store_authorize_es256", "raw_verify_es256"),
        ("reject_garbage_over_raw", "reject_garbage", "raw_verify_es256"),
        # Login runs the hash on tokio's blocking pool, and so does its baseline: a thread of
        # that pool page-faults its 19 MiB anew (below), which is the hash's cost, not login's.
        ("login_over_argon2", "login", "argon2_verify_blocking"),
    ]:
        figures[key] = figure(per_round(rounds, subject, baseline), budget_for(key))
    # The mean call, the amortised catch-ups included (reported; the budget is on the median).
    figures["store_authorize_es256_over_raw_mean"] = figure(
        per_round(rounds, "store_authorize_es256", "raw_verify_es256", "mean_ns")
    )
    figures["argon2_blocking_pool_over_calling_thread"] = figure(
        per_round(rounds, "argon2_verify_blocking", "argon2_verify")
    )
    figures["store_over_twin_es256"] = figure(
        per_round(rounds, "store_authorize_es256", "authorize_es256")
    )
    store = decisions["store"]
    reads = sum(n for op, n in store["aws_calls"].items() if op in READS)
    figures["store_reads_per_decision"] = {
        "median": reads / store["decisions"],
        "min": reads / store["decisions"],
        "max": reads / store["decisions"],
        "runs": 1,
        "budget": budget_for("store_reads_per_decision"),
        "calls": store["aws_calls"],
        "decisions": store["decisions"],
        "requests_per_second_per_instance": store["requests_per_second_per_instance"],
    }
    absolute_us = {
        name: statistics.median(r[name]["median_ns"] for r in rounds) / 1000 for name in rounds[0]
    }
    absolute_us["store_authorize_es256 mean"] = (
        statistics.median(r["store_authorize_es256"]["mean_ns"] for r in rounds) / 1000
    )
    # What costs what in a twin-only decision, microseconds (medians over the rounds of each
    # stage's median call): the token's verification beyond the bare signature check, then the
    # verdict beyond it (keyring snapshot, revocation lookup, route rules), then the event and
    # the policy response.
    breakdown_us = {}
    for alg in ("es256", "rs256"):
        us = {
            k: absolute_us[f"{k}_{alg}"]
            for k in ("raw_verify", "verify", "decide", "authorize")
            if f"{k}_{alg}" in absolute_us
        }
        if len(us) == 4:
            event = absolute_us.get("event_parse", 0.0)
            deny = us["authorize"] - absolute_us.get(f"authorize_admin_{alg}", us["authorize"])
            breakdown_us[alg] = {
                "signature": us["raw_verify"],
                "token_and_claims": us["verify"] - us["raw_verify"],
                "keyring_revocation_rules": us["decide"] - us["verify"],
                "event": event,
                "deny_statement": deny,
                "rest_of_response": us["authorize"] - us["decide"] - event - deny,
                "decision": us["authorize"],
                # After the decision, outside its timing: the runtime serialising the answer.
                "after: answer_to_bytes": absolute_us.get("answer_to_bytes", 0.0),
            }
else:
    missing.append("decisions.json (the Rust bench)")
    breakdown_us = {}
    absolute_us = {}

peers = load("peers.json")
if peers and absolute_us:
    for lib in ("jsonwebtoken", "jose"):
        for alg in ("es256", "rs256"):
            ours = absolute_us[f"authorize_{alg}"] * 1000
            theirs = peers[f"{lib}_{alg}_ns"]
            runs = [ns / ours for ns in (theirs if isinstance(theirs, list) else [theirs])]
            figures[f"node_{lib}_{alg}_over_ours"] = figure(runs)

coldstart = load("coldstart.json")
if coldstart:
    bins = coldstart["binaries"]
    base = bins[coldstart["baseline"]]
    reps = coldstart["reps"]
    size = max(1, reps // COLDSTART_BLOCKS)
    blocks = [(i, i + size) for i in range(0, reps - size + 1, size)]

    def block_ratios(fn, field):
        return [
            statistics.median(bins[fn][field][a:b]) / statistics.median(base[field][a:b])
            for a, b in blocks
        ]

    for fn in (n for n in bins if n != coldstart["baseline"]):
        b = bins[fn]
        figures[f"init_ratio {fn}"] = figure(
            block_ratios(fn, "init_ns"), budget_for("init_ratio", fn)
        )
        # Less the time the function waited for the emulator's answers at init (the median
        # wait of the starts through the counting proxy): what its own init code costs.
        wait_ns = b["aws_wait_ms_median"] * 1e6
        figures[f"init_ratio_excluding_aws_wait {fn}"] = figure(
            [
                (statistics.median(b["init_ns"][x:y]) - wait_ns)
                / statistics.median(base["init_ns"][x:y])
                for x, y in blocks
            ],
            budget_for("init_ratio_excluding_aws_wait", fn),
        )
        figures[f"peak_memory_ratio {fn}"] = figure(block_ratios(fn, "peak_rss_kib"))
        for key, field in (("size_ratio", "binary_bytes"), ("zip_ratio", "zip_bytes")):
            figures[f"{key} {fn}"] = figure([b[field] / base[field]], budget_for(key, fn))
else:
    missing.append("coldstart.json (scripts/bench/coldstart.py)")

summary = {
    "figures": figures,
    "absolute_us": absolute_us,
    "breakdown_us": breakdown_us,
    "rounds": len(decisions["rounds"]) if decisions else 0,
    "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
}
if coldstart:
    base = coldstart["binaries"][coldstart["baseline"]]
    summary["coldstart_reps"] = coldstart["reps"]
    summary["coldstart_baseline"] = {
        "init_ms": base["init_ms_median"],
        "binary_bytes": base["binary_bytes"],
        "zip_bytes": base["zip_bytes"],
        "peak_rss_kib": base["peak_rss_kib_median"],
    }
phases_path = os.path.join(OUT, "phases.txt")
if os.path.exists(phases_path):
    # Wall-clock and CPU (user + system, all processes) seconds of each phase (bench.sh).
    with open(phases_path) as f:
        rows = [line.split() for line in f if line.strip()]
    summary["phase_seconds"] = {row[0]: int(row[1]) for row in rows}
    summary["phase_cpu_seconds"] = {row[0]: int(row[2]) for row in rows}
with open(os.path.join(OUT, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)

over = []
print(f"{'figure (median of runs, range)':<44} {'median':>8} {'min':>8} {'max':>8} {'budget':>7}")
for name, f in figures.items():
    verdict = ""
    if f["budget"] is not None:
        verdict = "ok" if f["median"] <= f["budget"] else "OVER"
        if verdict == "OVER":
            over.append(name)
    budget = f"{f['budget']:.2f}" if f["budget"] is not None else "-"
    print(
        f"{name:<44} {f['median']:>8.3f} {f['min']:>8.3f} {f['max']:>8.3f} {budget:>7}  {verdict}"
    )
if decisions:
    calls = figures["store_reads_per_decision"]["calls"]
    print(
        f"store-inclusive: {summary['figures']['store_reads_per_decision']['decisions']} "
        f"decisions at {decisions['store']['requests_per_second_per_instance']} requests/s "
        f"per instance, AWS calls {calls}"
    )
    print("median call, microseconds: " + ", ".join(f"{k} {v:.1f}" for k, v in absolute_us.items()))
for alg, parts in breakdown_us.items():
    print(f"{alg} decision, microseconds: " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
if "phase_seconds" in summary:
    wall, cpu = summary["phase_seconds"], summary["phase_cpu_seconds"]
    print(f"{'phase':<16} {'wall s':>7} {'CPU s':>7}")
    for name in wall:
        print(f"{name:<16} {wall[name]:>7} {cpu[name]:>7}")
    print(f"{'total':<16} {sum(wall.values()):>7} {sum(cpu.values()):>7}")
print(f"written: {os.path.relpath(os.path.join(OUT, 'summary.json'))}")
failed = False
for name in missing:
    print(f"not measured: {name}", file=sys.stderr)
    failed = True
for name in over:
    f = figures[name]
    print(
        f"budget missed: {name}: median {f['median']:.3f} > {f['budget']:.2f} "
        f"(range {f['min']:.3f}-{f['max']:.3f}; budgets in scripts/bench/budgets.py)",
        file=sys.stderr,
    )
    failed = True
sys.exit(1 if failed else 0)
