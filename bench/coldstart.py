#!/usr/bin/env python3
"""Cold-start harness: starts each function's release binary as Lambda would
and times it against a bare `lambda_http` function (the floor) in the same run.

A small Lambda Runtime API server on loopback (a fresh one per start) hands
each new process an API Gateway event (the function's success fixture from
events/) and records, per start:

  init            process start -> first GET /2018-06-01/runtime/invocation/next
  first response  process start -> the response POSTed for that event
  peak RSS        VmHWM of /proc/<pid>/status, read after the first response
  handler         the handler's own time for that request (store calls
                  included), from the `latency_ms` of the function's log line
  warm response   the same event once more (table restored first), from
                  handing it out to its response: what the request costs a
                  warm process, i.e. mostly its store round trips

then kills the process. Starts are interleaved (one round = every binary
once, in a shuffled order, after one discarded warm-up round) so that load
drifting on the machine touches every binary alike; the report gives medians
over the rounds (the floor's over all its starts). Each round runs twice:
with DYNAMODB_WARMUP unset (the default and the template's setting: the
DynamoDB client is built on the first request) and with DYNAMODB_WARMUP=true
(the client built and one GetItem sent during init), to show what the
warm-up costs and saves.

The functions run on DynamoDB as deployed, here a moto_server: the caller
exports AWS_ENDPOINT_URL_DYNAMODB (scripts/with-moto.sh does), and the harness
creates and seeds a table with the local server (`local-api --init-table`),
snapshots it, and puts it back after every request, so every start of a write
(submit, cancel, close, reject) takes its success path. The environment is
the one Lambda gives a provided.al2023 function plus the function's
configuration from template.yaml, with the fixtures' HS256 secret.

--compare-dir DIR and --compare-env NAME=VALUE add variants (an earlier
build, an extra variable) to the same interleaved rounds, for before/after
measurements that share the machine's load.

    bash scripts/with-moto.sh python3 bench/coldstart.py --starts 15
    python3 bench/coldstart.py --help

Python 3 standard library only. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "lambda-floor"
# function -> its success fixture, events/<function>/<case>.json
FUNCTIONS = {
    "create-access-request": "grant-self",
    "cancel-access-request": "cancel-own-pending",
    "close-access-request": "close-defaults",
    "list-access-request-status": "requested-for-me",
    "reject-non-employee-request": "approver-rejects",
}
RUNTIME_PREFIX = "/2018-06-01/runtime"
START_TIMEOUT_SECS = 20.0


def log(msg: str) -> None:
    print(f"coldstart: {msg}", file=sys.stderr, flush=True)


# --- the Runtime API --------------------------------------------------------


class Invocation:
    """One event handed to a process, and its answer (perf_counter seconds)."""

    def __init__(self, event: bytes):
        self.request_id = str(uuid.uuid4())
        self.event = event
        self.t_out: float | None = None  # the event was sent
        self.t_response: float | None = None  # its response arrived
        self.response: bytes | None = None
        self.error: str | None = None
        self.release = threading.Event()  # the harness lets it go out
        self.answered = threading.Event()  # a response or an error arrived


class Start:
    """One process start: the events it gets, in order, and when it was ready."""

    def __init__(self, event: bytes, function: str, invocations: int):
        self.function = function
        self.invocations = [Invocation(event) for _ in range(invocations)]
        self.invocations[0].release.set()
        self.next_index = 0
        self.t0: float | None = None
        self.t_init: float | None = None
        self.error: str | None = None  # init error
        self.finished = threading.Event()  # the process is gone


class RuntimeApi(http.server.ThreadingHTTPServer):
    """The Runtime API of one process start (a fresh server and port per start,
    so a late request of a killed process can never reach the next one)."""

    daemon_threads = True

    def __init__(self, start: Start):
        super().__init__(("127.0.0.1", 0), RuntimeHandler)
        self.lock = threading.Lock()
        self.start_ = start

    def handle_error(self, request, client_address) -> None:
        # A killed process drops its long poll: expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"


class RuntimeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the runtime client expects
    server: RuntimeApi

    def log_message(self, *args) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:
        now = time.perf_counter()
        if self.path != f"{RUNTIME_PREFIX}/invocation/next":
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        start = self.server.start_
        with self.server.lock:
            if start.t_init is None:
                start.t_init = now
            index = start.next_index
            start.next_index += 1
        inv = start.invocations[index] if index < len(start.invocations) else None
        if inv is not None:
            # Hold the long poll until the harness releases this event.
            while not inv.release.wait(0.05):
                if start.finished.is_set():
                    inv = None
                    break
        if inv is None:
            # No more events for this process: hold the long poll until the
            # harness has killed it, then drop the connection.
            start.finished.wait(START_TIMEOUT_SECS)
            self.close_connection = True
            return
        deadline_ms = int((time.time() + 30) * 1000)
        inv.t_out = time.perf_counter()
        self._reply(
            200,
            inv.event,
            {
                "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:"
                f"function:{start.function}",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
            },
        )

    def do_POST(self) -> None:
        now = time.perf_counter()
        body = self._body()
        path = self.path
        start = self.server.start_
        m = re.fullmatch(rf"{RUNTIME_PREFIX}/invocation/([^/]+)/(response|error)", path)
        inv = next((i for i in start.invocations if m and i.request_id == m.group(1)), None)
        if inv is not None:
            if m.group(2) == "response":
                inv.t_response = now
                inv.response = body
            else:
                inv.error = f"invocation error: {body.decode(errors='replace')}"
            self._reply(202, b'{"status":"OK"}')
            inv.answered.set()
        elif path == f"{RUNTIME_PREFIX}/init/error":
            start.error = f"init error: {body.decode(errors='replace')}"
            self._reply(202, b'{"status":"OK"}')
            for i in start.invocations:
                i.answered.set()
        else:
            self._reply(400, b'{"errorMessage":"unknown request id or path"}')


# --- DynamoDB (moto_server) over plain HTTP ---------------------------------


class Dynamo:
    """Just enough of the DynamoDB JSON protocol to snapshot and restore a table.
    moto does not check signatures; the credential scope picks account and region."""

    def __init__(self, endpoint: str, region: str, access_key: str):
        self.endpoint = endpoint.rstrip("/") + "/"
        self.auth = (
            f"AWS4-HMAC-SHA256 Credential={access_key}/20200101/{region}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )

    def call(self, operation: str, payload: dict) -> dict:
        req = urllib.request.Request(
            self.endpoint,
            data=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Authorization": self.auth,
            },
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def key_names(self, table: str) -> list[str]:
        t = self.call("DescribeTable", {"TableName": table})["Table"]
        return [k["AttributeName"] for k in t["KeySchema"]]

    def scan(self, table: str) -> list[dict]:
        items, start = [], None
        while True:
            payload = {"TableName": table, "ConsistentRead": True}
            if start:
                payload["ExclusiveStartKey"] = start
            page = self.call("Scan", payload)
            items += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def batch_write(self, table: str, requests: list[dict]) -> None:
        for i in range(0, len(requests), 25):
            pending = requests[i : i + 25]
            for _ in range(20):
                out = self.call("BatchWriteItem", {"RequestItems": {table: pending}})
                pending = out.get("UnprocessedItems", {}).get(table, [])
                if not pending:
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("BatchWriteItem kept items unprocessed")


class TableSnapshot:
    def __init__(self, db: Dynamo, table: str):
        self.db, self.table = db, table
        self.keys = db.key_names(table)
        self.items = {self._key(i): i for i in db.scan(table)}

    def _key(self, item: dict) -> str:
        return json.dumps([item[k] for k in self.keys], sort_keys=True)

    def restore(self) -> int:
        """Puts the table back as it was; returns how many items it wrote or deleted."""
        current = {self._key(i): i for i in self.db.scan(self.table)}
        requests = [
            {"DeleteRequest": {"Key": {k: current[key][k] for k in self.keys}}}
            for key in current
            if key not in self.items
        ]
        requests += [
            {"PutRequest": {"Item": item}}
            for key, item in self.items.items()
            if current.get(key) != item
        ]
        self.db.batch_write(self.table, requests)
        return len(requests)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_table(local_api: Path, table: str, env: dict) -> None:
    """Creates and seeds `table` with `local-api --init-table`, then stops it."""
    port = free_port()
    proc = subprocess.Popen(
        [str(local_api), "--init-table", "--port", str(port)],
        env={**env, "TABLE_NAME": table, "DYNAMODB_WARMUP": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(
                    f"coldstart: local-api --init-table failed: {proc.stderr.read().decode()}"
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return  # it listens only after the table is seeded
            except OSError:
                time.sleep(0.1)
        raise SystemExit("coldstart: local-api did not seed the table within 120 s")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- one start ---------------------------------------------------------------


def lambda_env(function: str, api: str, binary: Path, config: dict) -> dict:
    """The environment Lambda gives a provided.al2023 function, plus its config."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(binary.parent),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "bootstrap",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"2026/01/01/[$LATEST]{uuid.uuid4().hex}",
        **config,
    }


def peak_rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def handler_latencies_ms(output: bytes) -> list[float]:
    """`latency_ms` of the function's request log lines (shared::http::handle),
    in order: the handler's own time for each request, store calls included."""
    out = []
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "latency_ms" in record:
            out.append(float(record["latency_ms"]))
    return out


def response_error(function: str, inv: Invocation) -> str | None:
    if inv.error:
        return inv.error
    if function == FLOOR:
        return None
    try:
        status = json.loads(inv.response).get("statusCode")
    except (TypeError, ValueError, AttributeError):
        status = None
    if isinstance(status, int) and 200 <= status < 300:
        return None
    return f"status {status}: {(inv.response or b'')[:300].decode(errors='replace')}"


def wait_answer(inv: Invocation, proc: subprocess.Popen) -> str | None:
    deadline = time.monotonic() + START_TIMEOUT_SECS
    while not inv.answered.wait(0.005):
        if proc.poll() is not None:
            if inv.answered.wait(0.2):  # a last POST may still be in flight
                return None
            return f"exited with {proc.returncode} before answering"
        if time.monotonic() > deadline:
            return f"no response within {START_TIMEOUT_SECS:.0f} s"
    return None


def run_start(function: str, binary: Path, event: bytes, config: dict, log_file,
              between=None) -> dict:
    """Starts `binary`, hands it `event`, reads its peak RSS once it has
    answered, then (after `between()`, e.g. restoring the table) hands it the
    same event again to time the warm request, and kills it."""
    start = Start(event, function, invocations=2)
    first, second = start.invocations
    api = RuntimeApi(start)
    threading.Thread(target=api.serve_forever, args=(0.05,), daemon=True).start()
    env = lambda_env(function, api.address, binary, config)
    rss = None
    start.t0 = time.perf_counter()
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=str(binary.parent))
    try:
        error = wait_answer(first, proc) or start.error or response_error(function, first)
        rss = peak_rss_kb(proc.pid)
        if not error:
            if between is not None:
                between()
            second.release.set()
            error = wait_answer(second, proc) or response_error(function, second)
            if error:
                error = f"warm request: {error}"
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate()[0] or b""
        start.finished.set()
        api.shutdown()
        api.server_close()
    log_file.write(output)
    result: dict = {"error": error, "peak_rss_kb": rss}
    if start.t_init is not None:
        result["init_ms"] = (start.t_init - start.t0) * 1000
    if first.t_response is not None:
        result["first_response_ms"] = (first.t_response - start.t0) * 1000
    if second.t_response is not None and second.t_out is not None:
        result["warm_response_ms"] = (second.t_response - second.t_out) * 1000
    latencies = handler_latencies_ms(output)
    if latencies:
        result["handler_ms"] = latencies[0]
    if len(latencies) > 1:
        result["warm_handler_ms"] = latencies[1]
    return result


# --- the run -----------------------------------------------------------------


def load_event(function: str, case: str) -> bytes:
    path = ROOT / "events" / function / f"{case}.json"
    if not path.is_file():
        cases = sorted(p.stem for p in path.parent.glob("*.json") if ".expected" not in p.name)
        raise SystemExit(f"coldstart: no fixture {path} (cases there: {cases})")
    return json.dumps(json.loads(path.read_text())).encode()


def local_secret() -> str:
    text = (ROOT / "shared/src/state.rs").read_text()
    m = re.search(r'LOCAL_HS256_SECRET: &str = "([^"]+)"', text)
    if not m:
        raise SystemExit("coldstart: LOCAL_HS256_SECRET not found in shared/src/state.rs")
    return m.group(1)


def store_round_trip_ms(db: Dynamo, table: str, samples: int = 21) -> float:
    """Median GetItem of a missing key on a new connection (what a function's
    first store call pays on this server, less the SDK's own work)."""
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        db.call("GetItem", {"TableName": table,
                            "Key": {"PK": {"S": "#RTT"}, "SK": {"S": "#RTT"}}})
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def zipped_size(function: str, lambda_dir: Path) -> int | None:
    bootstrap = lambda_dir / function / "bootstrap"
    if not bootstrap.is_file():
        return None
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(bootstrap, "bootstrap")
    return buf.tell()


def summarize(samples: list[dict]) -> dict:
    ok = [s for s in samples if not s.get("error")]
    out = {"starts": len(samples), "failed": len(samples) - len(ok)}
    for key in ("init_ms", "first_response_ms", "handler_ms", "warm_response_ms",
                "warm_handler_ms", "peak_rss_kb"):
        values = [s[key] for s in ok if s.get(key) is not None]
        if values:
            out[key] = statistics.median(values)
            out[f"{key}_min"] = min(values)
            out[f"{key}_max"] = max(values)
    errors = sorted({s["error"] for s in samples if s.get("error")})
    if errors:
        out["errors"] = errors[:3]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starts", type=int, default=int(os.environ.get("COLDSTART_STARTS", 15)),
                    help="starts per binary and mode (default 15, env COLDSTART_STARTS)")
    ap.add_argument("--functions", nargs="*", default=list(FUNCTIONS),
                    help="function crates to measure (default: all five)")
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "target/release",
                    help="where the release binaries are (default target/release)")
    ap.add_argument("--lambda-dir", type=Path, default=ROOT / "target/lambda",
                    help="cargo lambda output, for zipped sizes (default target/lambda)")
    ap.add_argument("--local-api", type=Path, default=ROOT / "target/debug/local-api",
                    help="the local server binary that creates and seeds the table")
    ap.add_argument("--table", default=None,
                    help="an existing, seeded table to use (default: create coldstart-<pid>)")
    ap.add_argument("--modes", default="off,on",
                    help="DYNAMODB_WARMUP modes to run, 'off', 'on' or 'off,on' (default)")
    ap.add_argument("--json", type=Path, default=ROOT / "target/bench/coldstart.json",
                    help="where to write the results (default target/bench/coldstart.json)")
    ap.add_argument("--compare-dir", type=Path, action="append", default=[], metavar="DIR",
                    help="also start the functions' binaries in DIR (e.g. a copy of an earlier "
                    "build), in the same rounds, as '<function> [DIR name]'; repeatable")
    ap.add_argument("--compare-env", action="append", default=[], metavar="NAME=VALUE",
                    help="also start every function with this extra variable, in the same "
                    "rounds, as '<function> [NAME=VALUE]'; repeatable")
    ap.add_argument("--discard", type=int, default=1,
                    help="untimed rounds first (page cache, moto), default 1")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="an extra variable for every binary (experiments), repeatable")
    ap.add_argument("--seed", type=int, default=6, help="shuffle seed of the start order")
    args = ap.parse_args()

    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if not endpoint:
        raise SystemExit("coldstart: set AWS_ENDPOINT_URL_DYNAMODB (run under scripts/with-moto.sh)")
    region = os.environ.get("AWS_REGION") or "us-east-1"
    aws = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
    }
    unknown = [f for f in args.functions if f not in FUNCTIONS]
    if unknown:
        raise SystemExit(f"coldstart: unknown functions {unknown}; known: {list(FUNCTIONS)}")
    # label -> (function, binary, extra environment)
    entries = {name: (name, args.bin_dir / name, {}) for name in [FLOOR, *args.functions]}
    for d in args.compare_dir:
        for f in args.functions:
            entries[f"{f} [{d.name}]"] = (f, d / f, {})
    for e in args.compare_env:
        name, _, value = e.partition("=")
        for f in args.functions:
            entries[f"{f} [{e}]"] = (f, args.bin_dir / f, {name: value})
    binaries = {label: path for label, (_, path, _) in entries.items()}
    missing = [str(p) for p in binaries.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"coldstart: build first (cargo build --release ...): missing {missing}")
    events = {f: load_event(f, FUNCTIONS[f]) for f in args.functions}
    # The floor answers anything; give it the status event.
    events[FLOOR] = load_event("list-access-request-status", FUNCTIONS["list-access-request-status"])
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    db = Dynamo(endpoint, region, aws["AWS_ACCESS_KEY_ID"])
    table = args.table or f"coldstart-{os.getpid()}"
    if not args.table:
        if not args.local_api.is_file():
            raise SystemExit(f"coldstart: no {args.local_api} (cargo build -p local-api)")
        log(f"creating and seeding table {table} with {args.local_api.name} --init-table")
        seed_table(args.local_api, table, {"PATH": os.environ.get("PATH", ""), **aws})
    snapshot = TableSnapshot(db, table)
    log(f"table {table}: {len(snapshot.items)} items")
    rtt = store_round_trip_ms(db, table)

    config = {
        **aws,
        # as template.yaml configures the functions
        "TABLE_NAME": table,
        "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "true",
        "JWT_HS256_SECRET": local_secret(),
        "JWT_PUBLIC_KEY_PEM": "",
        "JWT_JWKS": "",
        "JWT_ISSUER": "",
        "JWT_AUDIENCE": "",
        "RUST_LOG": "info",
        **dict(e.split("=", 1) for e in args.env),
    }
    log_dir = args.json.parent / "coldstart-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    logs = {name: open(log_dir / f"{re.sub(r'[^A-Za-z0-9_.=-]+', '_', name)}.log", "wb")
            for name in binaries}

    load_before = os.getloadavg()
    rng = random.Random(args.seed)
    samples: dict[str, dict[str, list]] = {m: {name: [] for name in binaries} for m in modes}
    log(f"{args.starts} rounds x {len(binaries)} binaries x modes {modes} "
        f"(load average {load_before[0]:.1f} on {os.cpu_count()} CPUs)")
    began = time.monotonic()
    for round_no in range(-args.discard, args.starts):
        for mode in modes:
            order = list(binaries)
            rng.shuffle(order)
            for name in order:
                function, binary, extra = entries[name]
                restore = None if function == FLOOR else snapshot.restore
                warmup = "true" if mode == "on" else "false"
                result = run_start(function, binary, events[function],
                                   {**config, **extra, "DYNAMODB_WARMUP": warmup},
                                   logs[name], between=restore)
                if round_no >= 0:
                    samples[mode][name].append(result)
                if result.get("error"):
                    log(f"{name} (warm-up {mode}): {result['error']}")
                if name != FLOOR:
                    snapshot.restore()
        what = f"round {round_no + 1}/{args.starts}" if round_no >= 0 else "warm-up round"
        log(f"{what} done ({time.monotonic() - began:.0f} s)")
    load_after = os.getloadavg()
    # The floor does not read DYNAMODB_WARMUP: one reference from all its starts.
    floor_starts = [r for m in modes for r in samples[m][FLOOR]]
    for m in modes:
        samples[m][FLOOR] = floor_starts
    for f in logs.values():
        f.close()

    results = {
        "starts": args.starts,
        "modes": modes,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "store_round_trip_ms": rtt,
        "table": table,
        "extra_env": args.env,
        "functions": {},
    }
    for name in binaries:
        entry = {"zipped_bytes": zipped_size(name, args.lambda_dir)}
        for mode in modes:
            entry[f"warmup_{mode}"] = summarize(samples[mode][name])
            entry[f"warmup_{mode}"]["samples"] = samples[mode][name]
        results["functions"][name] = entry
    for mode in modes:
        floor_init = results["functions"][FLOOR][f"warmup_{mode}"].get("init_ms")
        for name in binaries:
            s = results["functions"][name][f"warmup_{mode}"]
            if floor_init and s.get("init_ms") is not None:
                s["init_ratio"] = s["init_ms"] / floor_init
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))

    print(f"cold starts: median of {args.starts}, load average {load_before[0]:.1f} -> "
          f"{load_after[0]:.1f} on {os.cpu_count()} CPUs, store round trip {rtt:.2f} ms")
    for mode in modes:
        print(f"\nDYNAMODB_WARMUP={'true' if mode == 'on' else 'false'}")
        print(f"{'binary':30} {'init ms':>8} {'x floor':>8} {'1st resp ms':>12} "
              f"{'handler ms':>11} {'warm resp ms':>13} {'RSS MB':>7} fails")
        for name in binaries:
            s = results["functions"][name][f"warmup_{mode}"]

            def fmt(key, width):
                return format(s[key], f"{width}.2f") if key in s else "n/a".rjust(width)

            rss = f"{s['peak_rss_kb'] / 1024:.1f}" if "peak_rss_kb" in s else "n/a"
            print(f"{name:30} {fmt('init_ms', 8)} {fmt('init_ratio', 8)} "
                  f"{fmt('first_response_ms', 12)} {fmt('handler_ms', 11)} "
                  f"{fmt('warm_response_ms', 13)} {rss:>7} {s['failed']}")
    print(f"\nwrote {args.json}")
    failed = sum(results["functions"][n][f"warmup_{m}"]["failed"] for n in binaries for m in modes
                 if n != FLOOR) + results["functions"][FLOOR][f"warmup_{modes[0]}"]["failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
