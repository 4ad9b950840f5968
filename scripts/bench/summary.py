"""Turns criterion estimates, the peers' timings, the call counts and the cold-start/size
measurements (coldstart.json) into ratios: target/bench/summary.json and a table on stdout."""
import json
import os
import platform

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CRIT = os.path.join(ROOT, "target", "criterion")
OUT = os.path.join(ROOT, "target", "bench")


def ns(group, name):
    with open(os.path.join(CRIT, group, name, "new", "estimates.json")) as f:
        return json.load(f)["mean"]["point_estimate"]


def load(name):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


raw_es, raw_rs = ns("authorizer", "raw_verify_es256"), ns("authorizer", "raw_verify_rs256")
auth_es, auth_rs = ns("authorizer", "authorize_es256"), ns("authorizer", "authorize_rs256")
garbage = ns("authorizer", "reject_garbage")
summary = {
    "authorize_es256_over_raw": auth_es / raw_es,
    "authorize_rs256_over_raw": auth_rs / raw_rs,
    "reject_garbage_over_raw": garbage / raw_es,
    "login_over_argon2": ns("login", "login") / ns("login", "argon2_verify"),
    "init_ratio": None,
    "size_ratio": None,
    "zip_ratio": None,
    "peak_memory_ratio": None,
    "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
}
peers = load("peers.json")
if peers:
    summary["node_jsonwebtoken_over_ours"] = {
        "es256": peers["jsonwebtoken_es256_ns"] / auth_es,
        "rs256": peers["jsonwebtoken_rs256_ns"] / auth_rs,
    }
    summary["node_jose_over_ours"] = {
        "es256": peers["jose_es256_ns"] / auth_es,
        "rs256": peers["jose_rs256_ns"] / auth_rs,
    }
coldstart = load("coldstart.json")
if coldstart:
    # Cold start and size of each function's release binary over the bare lambda_runtime
    # baseline (scripts/bench/coldstart.py), medians of interleaved starts.
    bins = coldstart["binaries"]
    base = bins[coldstart["baseline"]]
    functions = [n for n in bins if n != coldstart["baseline"]]

    def ratios(field):
        return {n: bins[n][field] / base[field] for n in functions}

    summary["init_ratio"] = ratios("init_ms_median")
    summary["size_ratio"] = ratios("binary_bytes")
    summary["zip_ratio"] = ratios("zip_bytes")
    summary["peak_memory_ratio"] = ratios("peak_rss_kib_median")
    # The same, less the time the function waited for AWS at init (the emulator's answer
    # time, measured in a counting proxy): what tokengate's own init code costs.
    summary["init_ratio_excluding_aws_wait"] = {
        n: (bins[n]["init_ms_median"] - bins[n]["aws_wait_ms_median"]) / base["init_ms_median"]
        for n in functions
    }
    summary["coldstart_reps"] = coldstart["reps"]
phases_path = os.path.join(OUT, "phases.txt")
if os.path.exists(phases_path):
    # Wall-clock and CPU (user + system, all processes) seconds of each `make bench` phase
    # (scripts/bench.sh).
    with open(phases_path) as f:
        rows = [line.split() for line in f if line.strip()]
    summary["phase_seconds"] = {row[0]: int(row[1]) for row in rows}
    summary["phase_cpu_seconds"] = {row[0]: int(row[2]) for row in rows}
with open(os.path.join(OUT, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)

budgets = {
    "authorize_es256_over_raw": 1.2,
    "authorize_rs256_over_raw": 1.2,
    "reject_garbage_over_raw": 0.2,
    "login_over_argon2": 1.1,
}
print(f"{'figure':<32} {'ratio':>8} {'budget':>8}")
for key, budget in budgets.items():
    ok = "ok" if summary[key] <= budget else "OVER"
    print(f"{key:<32} {summary[key]:>8.3f} {budget:>8.2f}  {ok}")
for key in ("node_jsonwebtoken_over_ours", "node_jose_over_ours"):
    if key in summary:
        for alg, r in summary[key].items():
            print(f"{key + ' ' + alg:<32} {r:>8.2f}")
per_function_budgets = {
    "init_ratio": 1.5,
    "init_ratio_excluding_aws_wait": None,
    "size_ratio": 1.15,
    "zip_ratio": 1.15,
    "peak_memory_ratio": None,
}
if coldstart:
    print(f"{'vs coldstart-baseline':<40} {'ratio':>8} {'budget':>8}")
    for key, budget in per_function_budgets.items():
        for fn, r in summary[key].items():
            label = f"{key} {fn}"
            if budget is None:
                print(f"{label:<40} {r:>8.3f} {'-':>8}")
            else:
                ok = "ok" if r <= budget else "OVER"
                print(f"{label:<40} {r:>8.3f} {budget:>8.2f}  {ok}")
else:
    print("init_ratio, size_ratio, zip_ratio, peak_memory_ratio: not measured (no coldstart.json)")
if "phase_seconds" in summary:
    wall, cpu = summary["phase_seconds"], summary["phase_cpu_seconds"]
    print(f"{'phase':<16} {'wall s':>7} {'CPU s':>7}")
    for name in wall:
        print(f"{name:<16} {wall[name]:>7} {cpu[name]:>7}")
    print(f"{'total':<16} {sum(wall.values()):>7} {sum(cpu.values()):>7}")
print(f"written: {os.path.relpath(os.path.join(OUT, 'summary.json'))}")
