"""Cold start, peak memory and size of every function's release binary, as ratios to
`coldstart-baseline` (a bare `lambda_runtime` binary that builds the same AWS clients).

Each binary is started against a fake Lambda Runtime API served here. Its init time is the
time from just before exec to its first `GET /2018-06-01/runtime/invocation/next` (the moment
a real Lambda would hand it the first event); the process is then killed. The functions that
need AWS at init (every one but `me` reads the signing keyring, one DynamoDB `GetItem`; none
calls KMS) talk to the AWS API emulator. The emulator, its bootstrap (table, keys and keyring,
as `tokengate bootstrap` makes them) and
the proxy that logs each function's AWS calls are the Rust test harness's own
(`tests/src/bin/emulator-stack.rs`: `Emulator::start`, `Emulator::bootstrap`, `FaultProxy`),
run as one child process; this script keeps only the Runtime API and the timing. All binaries
run interleaved in one run, many times; the figures are medians. Also records which AWS
operations each binary calls before its first `/next`.

Peak memory is the child's VmHWM (`/proc/<pid>/status`) read at the first `/next`.
`ru_maxrss` from `os.wait4` is recorded too but not used for the ratio: Linux carries the
pre-exec address space's high-water mark into it at execve, so for a child of this Python
process it can never be below Python's own resident size (tens of MiB), which would hide
most of the differences being measured.

Stdlib only. Writes target/bench/coldstart.json; `summary.py` turns it into ratios.
Usage: coldstart.py [--reps N]
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RELEASE = os.path.join(ROOT, "target", "release")
OUT = os.path.join(ROOT, "target", "bench")
TEMPLATE = os.path.join(ROOT, "template.yaml")
BASELINE = "coldstart-baseline"
STACK = "emulator-stack"
NEXT = "/2018-06-01/runtime/invocation/next"
# Starts of each binary through the counting proxy, before the timed ones.
AUDIT_STARTS = 5


# A resource's logical id, two spaces in under `Resources:` (comments at that depth are not).
RESOURCE_HEADER = re.compile(r"^  [A-Za-z0-9]+:\s*$")


def template_functions(path=TEMPLATE):
    """{binary: memory MB} of every function template.yaml deploys: each resource's
    `Binary:` (Metadata.BuildProperties) and `MemorySize:`, else the Globals' one. A line
    reader, as the Makefile's `make package` list is, so that the bench measures exactly the
    deployed functions without a YAML parser (this script is stdlib only)."""
    functions, default_mb, resource = {}, None, {}
    section = None

    def close(resource):
        if "binary" in resource:
            functions[resource["binary"]] = resource.get("memory")

    with open(path) as f:
        for line in f:
            if not line.startswith(" ") and line.strip():
                section = line.split(":")[0]
            elif section == "Resources" and RESOURCE_HEADER.match(line):
                close(resource)
                resource = {}
            key, _, value = line.strip().partition(":")
            value = value.split("#")[0].strip()
            if key == "MemorySize":
                if section == "Globals":
                    default_mb = int(value)
                else:
                    resource["memory"] = int(value)
            elif key == "Binary" and section == "Resources":
                resource["binary"] = value
    close(resource)
    return {name: mb or default_mb for name, mb in functions.items()}


# Memory sizes from template.yaml (only reported to the runtime; nothing is enforced).
MEMORY_MB = template_functions()
FUNCTIONS = list(MEMORY_MB)


class EmulatorStack:
    """`emulator-stack` (built with the release binaries): the emulator, bootstrapped, behind a
    proxy that logs the AWS calls it forwards. Stops the emulator when its stdin closes."""

    def __init__(self, work, home):
        self.log = open(os.path.join(work, "emulator-stack.log"), "wb")
        self.proc = subprocess.Popen(
            [os.path.join(RELEASE, STACK)],
            env=dict(os.environ, HOME=home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        ready = self.proc.stdout.readline()
        if not ready:
            self.close()
            with open(self.log.name, "rb") as f:
                tail = f.read()[-2000:].decode(errors="replace")
            sys.exit(f"error: {STACK} exited with status {self.proc.returncode}:\n{tail}")
        ready = json.loads(ready)
        self.emulator, self.proxy = ready["emulator"], ready["proxy"]
        self.settings = ready["settings"]

    def forwarded(self):
        """The calls forwarded since the last time: (operation, received ns, answered ns)."""
        self.proc.stdin.write("forwarded\n")
        self.proc.stdin.flush()
        calls = json.loads(self.proc.stdout.readline())
        return [(c["operation"], c["received_ns"], c["answered_ns"]) for c in calls]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Run:
    """What the fake Runtime API saw during one start of one binary."""

    def __init__(self):
        self.lock = threading.Lock()
        self.first_next_ns = None
        self.requests = []
        self.next_seen = threading.Event()
        self.release = threading.Event()


class RuntimeApi(BaseHTTPRequestHandler):
    """The Lambda Runtime API, as far as a cold start gets: the first long poll is recorded
    and held open (no event is ever delivered) until the bench has killed the child."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        now = time.monotonic_ns()
        run = self.server.run
        with run.lock:
            run.requests.append(f"GET {self.path}")
            if self.path == NEXT and run.first_next_ns is None:
                run.first_next_ns = now
        if self.path == NEXT:
            run.next_seen.set()
            run.release.wait(60)
            self.close_connection = True
            return
        self.send_error(404)

    def do_POST(self):
        run = self.server.run
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with run.lock:
            run.requests.append(f"POST {self.path} {body[:500]!r}")
        self.send_response(202)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")


def start_once(name, env, runtime, log_path, timeout=30):
    """Starts one binary; returns (init ns, VmHWM KiB, ru_maxrss KiB, Runtime API requests)."""
    run = Run()
    runtime.run = run
    binary = os.path.join(RELEASE, name)
    with open(log_path, "wb") as log:
        t0 = time.monotonic_ns()
        proc = subprocess.Popen(
            [binary], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + timeout
    exited, hwm = None, None
    while not run.next_seen.wait(0.05):
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            exited = (status, usage)
            break
        if time.monotonic() > deadline:
            break
    if exited is None:
        if run.next_seen.is_set():
            hwm = vm_hwm_kib(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        _, status, usage = os.wait4(proc.pid, 0)
    else:
        status, usage = exited
    proc.returncode = -signal.SIGKILL  # reaped above; keep Popen from waiting again
    run.release.set()
    if run.first_next_ns is None:
        with open(log_path, "rb") as f:
            tail = f.read()[-2000:].decode(errors="replace")
        sys.exit(
            f"error: {name} never asked for an invocation (wait status {status}); "
            f"Runtime API saw {run.requests}; output:\n{tail}"
        )
    return run.first_next_ns - t0, hwm, usage.ru_maxrss, list(run.requests)


def waited_ns(calls):
    """How long at least one AWS call was in flight: calls made concurrently count once."""
    waited, busy_until = 0, 0
    for _, start, end in sorted(calls, key=lambda c: c[1]):
        waited += max(0, end - max(start, busy_until))
        busy_until = max(busy_until, end)
    return waited


def zipped_size(name, workdir):
    """The deployment package as `cargo lambda build --output-format zip` makes it: the
    binary, named `bootstrap`, deflated."""
    path = os.path.join(workdir, f"{name}.zip")
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(os.path.join(RELEASE, name), "rb") as f, zipfile.ZipFile(path, "w") as z:
        z.writestr(info, f.read())
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=int(os.environ.get("COLDSTART_REPS", "60")))
    args = ap.parse_args()
    names = FUNCTIONS + [BASELINE]
    for name in names + [STACK]:
        if not os.access(os.path.join(RELEASE, name), os.X_OK):
            sys.exit(f"error: target/release/{name} missing; build the release binaries first")
    work = os.path.join(OUT, "coldstart")  # zips, logs, emulator state of the last run
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    home = os.path.join(work, "home")  # no ~/.aws profile files from the machine
    os.makedirs(home)

    sizes = {n: os.path.getsize(os.path.join(RELEASE, n)) for n in names}
    zips = {n: zipped_size(n, work) for n in names}

    stack = EmulatorStack(work, home)
    runtime = serve(RuntimeApi)
    try:
        aws = {
            "HOME": home,
            "PATH": "/usr/bin:/bin",
            "AWS_ENDPOINT_URL": stack.emulator,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        settings = stack.settings

        def env_for(name, endpoint=None):
            env = dict(aws, **settings)
            env.update(
                {
                    "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime.server_address[1]}",
                    "AWS_LAMBDA_FUNCTION_NAME": name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB.get(name, 256)),
                    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]coldstart",
                    "TOKENGATE_ISSUER": "https://auth.example",
                    "TOKENGATE_AUDIENCE": "api",
                    "TOKENGATE_ALLOWED_ORIGINS": "https://app.example",
                    "TOKENGATE_ROUTE_ROLES": "GET /api/me=;* /api/admin/*=admin",
                }
            )
            if endpoint:
                env["AWS_ENDPOINT_URL"] = endpoint
            return env

        envs = {n: env_for(n) for n in names}

        def log(name):
            return os.path.join(work, f"{name}.log")

        # A few starts each through the counting proxy: the AWS calls on the init path and how
        # long the emulator took to answer them (also warms the page cache and the emulator).
        init_calls, runtime_requests = {}, {}
        aws_wait = {n: [] for n in names}
        for _ in range(AUDIT_STARTS):
            for n in names:
                stack.forwarded()  # anything a killed process sent late is not this start's
                _, _, _, reqs = start_once(n, env_for(n, stack.proxy), runtime, log(n))
                calls = stack.forwarded()
                init_calls[n] = sorted(c for c, _, _ in calls)
                aws_wait[n].append(waited_ns(calls))
                runtime_requests[n] = [r for r in reqs if r != f"GET {NEXT}"]
        for n in names:
            start_once(n, envs[n], runtime, log(n))

        rng = random.Random(2026)
        init_ns = {n: [] for n in names}
        hwm = {n: [] for n in names}
        maxrss = {n: [] for n in names}
        started = time.monotonic()
        for _ in range(args.reps):
            order = names[:]
            rng.shuffle(order)
            for n in order:
                t, h, m, _ = start_once(n, envs[n], runtime, log(n))
                init_ns[n].append(t)
                hwm[n].append(h)
                maxrss[n].append(m)
        elapsed = time.monotonic() - started
    finally:
        stack.close()
        runtime.shutdown()

    result = {
        "reps": args.reps,
        "interleaved_seconds": round(elapsed, 1),
        "baseline": BASELINE,
        "binaries": {
            n: {
                "init_ms_median": statistics.median(init_ns[n]) / 1e6,
                "init_ms_p10_p90": [
                    statistics.quantiles(init_ns[n], n=10)[0] / 1e6,
                    statistics.quantiles(init_ns[n], n=10)[-1] / 1e6,
                ],
                "peak_rss_kib_median": statistics.median(hwm[n]),
                # Every start in order (interleaved with the other binaries' starts of the
                # same rep): summary.py reports the ratios per block of reps, median and range.
                "init_ns": init_ns[n],
                "peak_rss_kib": hwm[n],
                "ru_maxrss_kib_median": statistics.median(maxrss[n]),
                "binary_bytes": sizes[n],
                "zip_bytes": zips[n],
                "aws_calls_at_init": init_calls[n],
                # Emulator time answering those calls (sequential calls summed), measured in
                # the proxy: the part of init that is waiting on AWS rather than own code.
                "aws_wait_ms_median": statistics.median(aws_wait[n]) / 1e6,
                "other_runtime_api_requests_at_init": runtime_requests[n],
            }
            for n in names
        },
    }
    with open(os.path.join(OUT, "coldstart.json"), "w") as f:
        json.dump(result, f, indent=2)

    base = result["binaries"][BASELINE]
    print(
        f"{'binary':<20} {'init ms':>8} {'peak MiB':>9} {'binary MiB':>11} {'zip MiB':>8}"
        f" {'AWS wait ms':>12}  AWS calls at init"
    )
    for n in names:
        b = result["binaries"][n]
        calls = ", ".join(c.split(".")[-1] for c in b["aws_calls_at_init"]) or "none"
        print(
            f"{n:<20} {b['init_ms_median']:>8.2f} {b['peak_rss_kib_median'] / 1024:>9.2f} "
            f"{b['binary_bytes'] / 2**20:>11.2f} {b['zip_bytes'] / 2**20:>8.2f} "
            f"{b['aws_wait_ms_median']:>12.2f}  {calls}"
        )
    print(
        f"{args.reps} interleaved starts of each of {len(names)} binaries in {elapsed:.1f} s; "
        f"baseline init {base['init_ms_median']:.2f} ms"
    )
    for n in names:
        other = result["binaries"][n]["other_runtime_api_requests_at_init"]
        if other:
            print(f"note: {n} also sent {other} to the Runtime API before its first /next")


if __name__ == "__main__":
    main()
