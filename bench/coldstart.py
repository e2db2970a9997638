#!/usr/bin/env python3
"""Cold-start harness: starts each function's release binary as Lambda would,
under Lambda's CPU model, and times it against a bare `lambda_http` function
(the floor) in the same run.

The CPU model. Lambda runs a function's init with a full core (burst) and its
invocations with a share of one in proportion to memory: 1,769 MB is one
vCPU, so 128 MB gets 7.2%. Here, each start runs unthrottled until the
process first asks for an invocation (`GET /runtime/invocation/next`); at that
moment the harness moves it into the cgroup v1 CPU group it made for that
memory size (under its own group in /sys/fs/cgroup/cpu, as root: bench/run.sh
runs the whole bench in a group with a higher CPU weight than the machine's
other work), whose quota is memory/1769 of one
core (`cpu.cfs_quota_us` per `cpu.cfs_period_us`, 20 ms periods by default,
the interval Lambda was observed to throttle in). The groups are removed when
the run ends, whether it succeeded or not.

The store. The functions reach DynamoDB (moto_server, which the caller starts:
scripts/with-moto.sh) over TLS with kept-alive connections, as they reach
DynamoDB on AWS: bench/tls_front.py terminates TLS in front of moto with a
test CA made for the run, trusted through SSL_CERT_FILE. The harness creates
and seeds a table with the local server (`local-api --init-table`),
snapshots it, and puts it back after each request that wrote, so every
request of a write (submit, cancel, close, reject) takes its success path.

The functions and their requests come from routes.toml: each route's
`smoke` list starts with its success fixture, events/<function>/<case>.json.
Per start, the harness records:

  init            process start -> first GET /runtime/invocation/next
  first response  init + first request: process start -> the response to the
                  success fixture less the harness's own gap between the
                  first `next` and handing the event out (the cold total)
  first request   that event handed out -> its response
  CPU             the process's CPU time in init, in the first request and
                  (median) in a warm request
                  (/proc/<pid>/task/*/schedstat), and the periods the quota
                  throttled it in the first request (cpu.stat)
  warm            the same event --warm more times on the now-warm process
                  (table restored first when the request wrote; --warm-gap-ms
                  idle before each, so each meets a fresh quota period, as
                  requests spaced in time do), handed out -> response
  page faults     minor faults (/proc/<pid>/stat) in init, in the first
                  request and (median) in a warm request
  peak RSS        VmHWM of /proc/<pid>/status before the process is killed

Each binary is read into the page cache just before its start (Lambda
unpacks the zip onto the environment's disk just before init), so that no
start pays for reading it from disk: see read_into_page_cache.

One round is every (memory size, binary, variant) once, in a shuffled order,
so that load drifting on the machine touches all alike; one discarded round
comes first. The report gives, per cell, medians over the starts and p50/p99
over all warm requests. Variants (--variants) are set-ups of the same
binaries, compared in the same rounds:

  default-builtin the default: DYNAMODB_WARMUP unset (the client built and
                  its connection opened during init), the compiled-in roots
  warmup-builtin  DYNAMODB_WARMUP=true: the same, set explicitly
  lazy-builtin    DYNAMODB_WARMUP=false: the client built by the first request
  warmup-bundle   the system's CA bundle (~220 KB of PEM) read instead of the
  lazy-bundle     compiled-in roots (what SSL_CERT_FILE=<bundle> does)

'all' is the four explicit set-ups (the default is the first).

The test CA has to be trusted in every variant, so the "builtin" variants set
SSL_CERT_FILE to the test CA alone (one certificate parsed where the
compiled-in roots are five: tens of microseconds apart) and the "bundle"
variants to the system bundle with the test CA appended.

The first warm request of each function also counts its DynamoDB request
units (bench/capacity.py, from the calls the front logged and the table
snapshot), for the cost table of bench/report.py.

    bash scripts/with-moto.sh python3 bench/coldstart.py --starts 5
    python3 bench/coldstart.py --help

Python 3.11+ standard library (plus what bench/tls_front.py needs). Linux
only (/proc, cgroup v1 cpu controller), as root.
"""

from __future__ import annotations

import argparse
import atexit
import errno
import http.server
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import capacity  # noqa: E402  (bench/capacity.py)

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "lambda-floor"
RUNTIME_PREFIX = "/2018-06-01/runtime"
START_TIMEOUT_SECS = 30.0
# Lambda: 1,769 MB of memory is one vCPU.
FULL_CORE_MB = 1769
CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
# The CA bundle files openssl-probe looks for on Linux, in its order.
CA_BUNDLE_FILES = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
]
# name -> (DYNAMODB_WARMUP or None to leave it unset, roots: "builtin" or "bundle")
VARIANTS = {
    "default-builtin": (None, "builtin"),
    "warmup-builtin": ("true", "builtin"),
    "lazy-builtin": ("false", "builtin"),
    "warmup-bundle": ("true", "bundle"),
    "lazy-bundle": ("false", "bundle"),
}
DEFAULT_VARIANT = "default-builtin"


def own_cpu_cgroup() -> Path:
    """This process's group in the cgroup v1 cpu hierarchy (bench/run.sh puts
    the whole bench in one with a higher CPU weight): the quota groups go
    under it."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return CGROUP_CPU / path.lstrip("/")
    return CGROUP_CPU


def log(msg: str) -> None:
    print(f"coldstart: {msg}", file=sys.stderr, flush=True)


def routes() -> list[tuple[str, str]]:
    """(function, its success fixture) for every route of routes.toml."""
    with open(ROOT / "routes.toml", "rb") as f:
        table = tomllib.load(f)
    return [(r["function"], r["smoke"][0]) for r in table["route"]]


# --- the CPU model -------------------------------------------------------------


class CpuQuota:
    """A cgroup v1 CPU group of its own for one memory size, limiting what
    enters it to memory/1769 of one core, for the whole run.

    A process's first move into a new group costs the kernel ~15 ms (a new
    css_set); later moves ~0.1 ms. So the group lives for the run and holds a
    sleeping placeholder process from the start, and each function process
    is moved in at the moment it asks for its first invocation. Throttling
    counts are cumulative: a start reads them before and after. Every group
    made is removed by `remove_all` (at exit, whatever happens)."""

    made: dict[Path, subprocess.Popen] = {}

    def __init__(self, memory_mb: int, period_us: int):
        self.path = own_cpu_cgroup() / f"coldstart-{os.getpid()}-{memory_mb}mb"
        placeholder = subprocess.Popen(["sleep", "86400"])
        try:
            self.path.mkdir()
        except OSError:
            placeholder.kill()
            placeholder.wait()
            raise
        CpuQuota.made[self.path] = placeholder
        self.memory_mb = memory_mb
        self.period_us = period_us
        # The kernel's smallest quota is 1 ms.
        self.quota_us = max(1000, round(period_us * memory_mb / FULL_CORE_MB))
        (self.path / "cpu.cfs_period_us").write_text(str(period_us))
        (self.path / "cpu.cfs_quota_us").write_text(str(self.quota_us))
        self.enter(placeholder.pid)

    def enter(self, pid: int) -> None:
        """Moves the process, all its threads, into the group."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def stat(self) -> dict:
        out = {}
        for line in (self.path / "cpu.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            out[name] = int(value)
        return out

    @classmethod
    def remove_all(cls) -> None:
        for path, placeholder in list(cls.made.items()):
            placeholder.kill()
            placeholder.wait()
            try:
                pids = (path / "cgroup.procs").read_text().split()
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            deadline = time.monotonic() + 5
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    # EBUSY while a killed process is still leaving it.
                    if e.errno != errno.EBUSY or time.monotonic() > deadline:
                        log(f"cannot remove {path}: {e}")
                        break
                    time.sleep(0.01)
            del cls.made[path]

    @staticmethod
    def check() -> None:
        if not (CGROUP_CPU / "cpu.cfs_quota_us").is_file():
            raise SystemExit(f"coldstart: no cgroup v1 cpu controller at {CGROUP_CPU}")
        if os.geteuid() != 0:
            raise SystemExit("coldstart: the CPU model needs root (cgroup v1 cpu groups)")


def cpu_ns(pid: int) -> int | None:
    """CPU time of every live thread of the process, in nanoseconds."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError):
        return None
    return total


def minor_faults(pid: int) -> int | None:
    """Minor page faults of the process so far (/proc/<pid>/stat, field 10):
    memory and code it touched for the first time."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name may hold spaces; the fields after it do not.
            return int(f.read().rsplit(")", 1)[1].split()[7])
    except (OSError, ValueError, IndexError):
        return None


# --- the Runtime API --------------------------------------------------------


class Invocation:
    """One event handed to a process, and its answer (perf_counter seconds)."""

    def __init__(self, event: bytes):
        self.request_id = str(uuid.uuid4())
        self.event = event
        self.t_out: float | None = None  # the event was sent
        self.t_response: float | None = None  # its response arrived
        self.cpu_out: int | None = None  # the process's CPU ns when the event went out
        self.cpu_response: int | None = None  # ... and when its response arrived
        self.faults_out: int | None = None  # the process's minor faults then
        self.faults_response: int | None = None
        self.response: bytes | None = None
        self.error: str | None = None
        self.release = threading.Event()  # the harness lets it go out
        self.answered = threading.Event()  # a response or an error arrived


class Start:
    """One process start: the events it gets, in order, when it was ready,
    and the CPU it used."""

    def __init__(self, event: bytes, function: str, invocations: int,
                 quota: CpuQuota | None = None):
        self.function = function
        self.invocations = [Invocation(event) for _ in range(invocations)]
        self.invocations[0].release.set()
        self.next_index = 0
        self.quota = quota
        self.pid: int | None = None
        self.spawned = threading.Event()  # pid is set
        self.t0: float | None = None
        self.t_init: float | None = None
        self.cpu_init_ns: int | None = None
        self.cpu_first_ns: int | None = None  # at the first response
        self.faults_init: int | None = None  # minor faults at the first `next`
        self.faults_first: int | None = None  # ... and at the first response
        self.throttle_before: dict | None = None  # cpu.stat when it entered the group
        self.throttle_first: dict | None = None  # cpu.stat's growth in the first request
        self.error: str | None = None  # init error
        self.finished = threading.Event()  # the process is gone

    def init_done(self) -> None:
        """The process asks for its first event: init is over, and from now on
        it runs under the quota."""
        if not self.spawned.wait(5):
            return
        self.cpu_init_ns = cpu_ns(self.pid)
        self.faults_init = minor_faults(self.pid)
        if self.quota is not None:
            try:
                self.throttle_before = self.quota.stat()
                self.quota.enter(self.pid)
            except OSError as e:
                self.error = f"cannot enter the CPU quota group: {e}"

    def first_answered(self) -> None:
        if self.pid is not None:
            self.cpu_first_ns = cpu_ns(self.pid)
            self.faults_first = minor_faults(self.pid)
        if self.quota is not None and self.throttle_before is not None:
            try:
                after = self.quota.stat()
                self.throttle_first = {k: v - self.throttle_before.get(k, 0)
                                       for k, v in after.items()}
            except OSError:
                pass


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
                start.init_done()
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
        if index > 0 and start.pid is not None:
            inv.cpu_out = cpu_ns(start.pid)
            inv.faults_out = minor_faults(start.pid)
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
                if inv is not start.invocations[0] and start.pid is not None:
                    inv.cpu_response = cpu_ns(start.pid)
                    inv.faults_response = minor_faults(start.pid)
                if inv is start.invocations[0]:
                    start.first_answered()
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


# --- the TLS front ---------------------------------------------------------------


# The functions' DynamoDB client gives up on an attempt after this long
# (shared/src/store/dynamo/mod.rs, ATTEMPT_TIMEOUT) and retries within the
# request's budget.
SDK_ATTEMPT_TIMEOUT_MS = 1500


def slow_store_calls(calls: list[dict]) -> dict:
    """The store calls moto_server took longer than the SDK's attempt timeout
    to answer (the front's log): each one a retried attempt, or a failed
    request when the slowness outlasted the request's budget."""
    slow = [c for c in calls if c.get("upstream_ms", 0) > SDK_ATTEMPT_TIMEOUT_MS]
    return {
        "over_ms": SDK_ATTEMPT_TIMEOUT_MS,
        "count": len(slow),
        "slowest_ms": max((c["upstream_ms"] for c in slow), default=None),
        "calls": [{"t": c["t"], "operation": c["operation"], "ms": c["upstream_ms"]}
                  for c in slow[:10]],
    }


class TlsFront:
    """bench/tls_front.py in its own process: TLS with kept-alive connections
    in front of moto_server, logging every call to `log_path`."""

    def __init__(self, upstream: str, directory: Path, log_path: Path, rtt_ms: float = 0.0):
        self.log_path = log_path
        log_path.write_text("")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench/tls_front.py"), "--upstream", upstream,
             "--dir", str(directory), "--log", str(log_path), "--rtt-ms", str(rtt_ms)],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("coldstart: bench/tls_front.py did not start")
        ready = json.loads(line)
        self.endpoint = f"https://localhost:{ready['port']}"
        self.ca = Path(ready["ca"])

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def calls(self, begin: int, end: int) -> list[dict]:
        with open(self.log_path, "rb") as f:
            f.seek(begin)
            data = f.read(end - begin)
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def store_round_trip_ms(front: TlsFront, table: str, region: str, samples: int = 31) -> float:
    """Median GetItem (a missing key) through the front on one kept-alive TLS
    connection: what one store call costs here, against DynamoDB's few ms."""
    import http.client
    import ssl

    context = ssl.create_default_context(cafile=str(front.ca))
    conn = http.client.HTTPSConnection("localhost", int(front.endpoint.rsplit(":", 1)[1]),
                                       context=context, timeout=30)
    body = json.dumps({"TableName": table, "Key": {"PK": {"S": "#RTT"}, "SK": {"S": "#"}}})
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20200101/{region}/dynamodb/"
                         "aws4_request, SignedHeaders=host, Signature=0",
    }
    times = []
    try:
        for _ in range(samples):
            t = time.perf_counter()
            conn.request("POST", "/", body=body, headers=headers)
            conn.getresponse().read()
            times.append((time.perf_counter() - t) * 1000)
    finally:
        conn.close()
    return statistics.median(times[1:])


def trust_files(ca: Path, directory: Path) -> dict[str, Path]:
    """SSL_CERT_FILE per kind of roots: the test CA alone ("builtin": stands
    for the five compiled-in roots), or the system bundle with the test CA
    appended ("bundle": what reading the bundle costs)."""
    bundle = next((Path(p) for p in CA_BUNDLE_FILES if Path(p).is_file()), None)
    if bundle is None:
        raise SystemExit("coldstart: no system CA bundle found (ca-certificates)")
    both = directory / "bundle-and-test-ca.pem"
    both.write_bytes(bundle.read_bytes() + b"\n" + ca.read_bytes())
    return {"builtin": ca, "bundle": both}


# --- one start -------------------------------------------------------------------


def lambda_env(function: str, api: str, binary: Path, memory_mb: int, config: dict) -> dict:
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
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
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


def read_into_page_cache(binary: Path) -> None:
    """Reads the whole binary, so that starting it finds its pages in the page
    cache, as Lambda's does: it unpacks the function's zip onto the
    environment's disk just before init. Without this a start here may read
    the binary from disk, which a 20-function run makes likely: this machine's
    memory manager pages out file pages idle for about a minute (DAMON's
    `pageout` scheme, /sys/kernel/mm/damon/admin), and each binary waits
    minutes between its starts."""
    with open(binary, "rb") as f:
        while f.read(1 << 20):
            pass


def run_start(function: str, binary: Path, event: bytes, env: dict, log_file, *,
              quota: CpuQuota | None, warm: int, warm_gap_s: float,
              restore=None, front: TlsFront | None = None) -> dict:
    """Starts `binary`, hands it `event`, then the same event `warm` more
    times (after `restore()` when the request wrote, and `warm_gap_s` idle),
    reads its peak RSS, and kills it. With `front`, the calls of the first
    warm request are kept (their log range) for counting request units."""
    start = Start(event, function, invocations=1 + warm, quota=quota)
    first = start.invocations[0]
    api = RuntimeApi(start)
    threading.Thread(target=api.serve_forever, args=(0.05,), daemon=True).start()
    env = {**env, "AWS_LAMBDA_RUNTIME_API": api.address}
    rss = None
    wrote = None
    log_range = None
    warm_throttled = None
    read_into_page_cache(binary)
    start.t0 = time.perf_counter()
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=str(binary.parent))
    start.pid = proc.pid
    start.spawned.set()
    # Drain the output as it comes, so a chatty process never blocks on a pipe.
    output = bytearray()
    reader = threading.Thread(target=lambda: output.extend(proc.stdout.read()), daemon=True)
    reader.start()
    try:
        error = wait_answer(first, proc) or start.error or response_error(function, first)
        for index, inv in enumerate(start.invocations[1:]):
            if error:
                break
            if restore is not None and wrote is not False:
                changed = restore()
                if wrote is None:
                    wrote = changed > 0  # a request that wrote nothing needs no restore
            idle = warm_gap_s - (time.perf_counter() - start.invocations[index].t_response)
            if idle > 0:
                time.sleep(idle)
            capture = front is not None and index == 0
            begin = front.log_size() if capture else None
            inv.release.set()
            error = wait_answer(inv, proc) or response_error(function, inv)
            if capture and not error:
                log_range = (begin, front.log_size())
            if error:
                error = f"warm request {index + 1}: {error}"
        rss = peak_rss_kb(proc.pid)
        if quota is not None and start.throttle_before is not None and len(start.invocations) > 1:
            after = quota.stat()
            warm_throttled = after["nr_throttled"] - start.throttle_before["nr_throttled"] - (
                (start.throttle_first or {}).get("nr_throttled", 0))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join(5)
        start.finished.set()
        api.shutdown()
        api.server_close()
    log_file.write(bytes(output))
    result: dict = {"error": error, "peak_rss_kb": rss, "wrote": wrote, "log_range": log_range,
                    "throttled_periods_warm": warm_throttled}
    if start.t_init is not None:
        result["init_ms"] = (start.t_init - start.t0) * 1000
    if first.t_response is not None and first.t_out is not None and start.t_init is not None:
        # Init plus the first request: the harness's own time between the
        # first `next` and handing the event out (moving the process into
        # its group, ~5-10 ms of the kernel's RCU sync while the process
        # waits) is not the function's, and Lambda has no such gap.
        result["first_request_ms"] = (first.t_response - first.t_out) * 1000
        result["first_response_ms"] = result["init_ms"] + result["first_request_ms"]
    if start.cpu_init_ns is not None:
        result["cpu_init_ms"] = start.cpu_init_ns / 1e6
        if start.cpu_first_ns is not None:
            result["cpu_first_ms"] = (start.cpu_first_ns - start.cpu_init_ns) / 1e6
    if start.faults_init is not None:
        result["faults_init"] = start.faults_init
        if start.faults_first is not None:
            result["faults_first"] = start.faults_first - start.faults_init
    result["warm_faults"] = [
        inv.faults_response - inv.faults_out for inv in start.invocations[1:]
        if inv.faults_response is not None and inv.faults_out is not None
    ]
    if start.throttle_first:
        result["throttled_periods_first"] = start.throttle_first.get("nr_throttled")
        result["throttled_ms_first"] = start.throttle_first.get("throttled_time", 0) / 1e6
    result["warm_ms"] = [
        (inv.t_response - inv.t_out) * 1000 for inv in start.invocations[1:]
        if inv.t_response is not None and inv.t_out is not None
    ]
    result["warm_cpu_ms"] = [
        (inv.cpu_response - inv.cpu_out) / 1e6 for inv in start.invocations[1:]
        if inv.cpu_response is not None and inv.cpu_out is not None
    ]
    latencies = handler_latencies_ms(bytes(output))
    if latencies:
        result["handler_ms"] = latencies[0]
    return result


# --- the run -------------------------------------------------------------------


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


def zipped_size(function: str, lambda_dir: Path) -> int | None:
    bootstrap = lambda_dir / function / "bootstrap"
    if not bootstrap.is_file():
        return None
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(bootstrap, "bootstrap")
    return buf.tell()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


MEDIAN_KEYS = ("init_ms", "first_response_ms", "first_request_ms", "cpu_init_ms",
               "cpu_first_ms", "throttled_periods_first", "throttled_ms_first", "handler_ms",
               "peak_rss_kb", "faults_init", "faults_first")


def summarize(samples: list[dict]) -> dict:
    ok = [s for s in samples if not s.get("error")]
    out: dict = {"starts": len(samples), "failed": len(samples) - len(ok)}
    for key in MEDIAN_KEYS:
        values = [s[key] for s in ok if s.get(key) is not None]
        if values:
            out[key] = statistics.median(values)
            out[f"{key}_min"] = min(values)
            out[f"{key}_max"] = max(values)
    warm = [v for s in ok for v in s.get("warm_ms", [])]
    if warm:
        out["warm_n"] = len(warm)
        out["warm_p50_ms"] = percentile(warm, 50)
        out["warm_p99_ms"] = percentile(warm, 99)
    warm_cpu = [v for s in ok for v in s.get("warm_cpu_ms", [])]
    if warm_cpu:
        out["cpu_warm_p50_ms"] = percentile(warm_cpu, 50)
    warm_faults = [v for s in ok for v in s.get("warm_faults", [])]
    if warm_faults:
        out["faults_warm_p50"] = percentile(warm_faults, 50)
    errors = sorted({s["error"] for s in samples if s.get("error")})
    if errors:
        out["errors"] = errors[:3]
    return out


def fmt(value, width: int, digits: int = 1) -> str:
    return "n/a".rjust(width) if value is None else format(value, f"{width}.{digits}f")


def print_tables(results: dict) -> None:
    print(f"cold starts under the Lambda CPU model: {results['starts']} starts and "
          f"{results['starts'] * results['warm']} warm requests per cell, "
          f"{results['period_us'] // 1000} ms quota periods, load average "
          f"{results['load_average_before'][0]:.1f} -> {results['load_average_after'][0]:.1f} "
          f"on {results['cpus']} CPUs, {results['run_seconds'] / 60:.1f} min")
    for variant, by_memory in results["cells"].items():
        for memory, cells in by_memory.items():
            print(f"\n{variant}, {memory} MB ({int(memory) / FULL_CORE_MB:.1%} of a core after "
                  "init); ms unless noted")
            print(f"{'binary':30} {'init':>6} {'1st resp':>9} {'1st req':>8} {'CPU init':>9} "
                  f"{'CPU 1st':>8} {'CPU warm':>9} {'warm p50':>9} {'warm p99':>9} {'RSS MB':>7} fails")
            for name, s in cells.items():
                rss = s.get("peak_rss_kb")
                print(f"{name:30} {fmt(s.get('init_ms'), 6)} {fmt(s.get('first_response_ms'), 9)} "
                      f"{fmt(s.get('first_request_ms'), 8)} {fmt(s.get('cpu_init_ms'), 9, 2)} "
                      f"{fmt(s.get('cpu_first_ms'), 8, 2)} {fmt(s.get('cpu_warm_p50_ms'), 9, 2)} "
                      f"{fmt(s.get('warm_p50_ms'), 9)} "
                      f"{fmt(s.get('warm_p99_ms'), 9)} "
                      f"{fmt(None if rss is None else rss / 1024, 7)} {s['failed']}")
    if results.get("capacity"):
        print("\nDynamoDB request units of each function's success request "
              "(bench/capacity.py):")
        for function, c in results["capacity"].items():
            calls = ", ".join(f"{k['operation']} ({k['rru']:g} RRU, {k['wru']} WRU)"
                              for k in c["calls"])
            print(f"  {function}: {c['rru']:g} RRU + {c['wru']} WRU: {calls}")


def main() -> int:
    all_routes = routes()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starts", type=int, default=int(os.environ.get("COLDSTART_STARTS", 5)),
                    help="cold starts per cell: binary x memory size x variant "
                    "(default 5, env COLDSTART_STARTS)")
    ap.add_argument("--warm", type=int, default=int(os.environ.get("COLDSTART_WARM", 20)),
                    help="warm requests per start (default 20, env COLDSTART_WARM)")
    ap.add_argument("--warm-gap-ms", type=float, default=50.0,
                    help="idle time before each warm request (default 50)")
    ap.add_argument("--memory", default=os.environ.get("COLDSTART_MEMORY", "128,256,512,1024"),
                    help="memory sizes in MB (default 128,256,512,1024, env COLDSTART_MEMORY)")
    ap.add_argument("--period-us", type=int, default=20000,
                    help="CFS quota period in microseconds (default 20000)")
    ap.add_argument("--variants", default=os.environ.get("COLDSTART_VARIANTS", DEFAULT_VARIANT),
                    help=f"comma-separated set-ups to compare, or 'all': {', '.join(VARIANTS)} "
                    f"(default {DEFAULT_VARIANT}, env COLDSTART_VARIANTS)")
    ap.add_argument("--functions", nargs="*", default=[f for f, _ in all_routes],
                    help="function crates to measure (default: every route of routes.toml)")
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "target/release",
                    help="where the release binaries are (default target/release)")
    ap.add_argument("--lambda-dir", type=Path, default=ROOT / "target/lambda",
                    help="cargo lambda output, for zipped sizes (default target/lambda)")
    ap.add_argument("--local-api", type=Path, default=ROOT / "target/debug/local-api",
                    help="the local server binary that creates and seeds the table")
    ap.add_argument("--table", default=None,
                    help="an existing, seeded table to use (default: create coldstart-<pid>)")
    ap.add_argument("--json", type=Path, default=ROOT / "target/bench/coldstart.json",
                    help="where to write the results (default target/bench/coldstart.json)")
    ap.add_argument("--discard", type=int, default=1,
                    help="untimed rounds first (page cache, moto), default 1")
    ap.add_argument("--store-rtt-ms", type=float, default=0.0,
                    help="a network round trip between the functions and the store "
                         "(default 0: loopback's); bench/tls_front.py --rtt-ms")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="an extra variable for every binary (experiments), repeatable")
    ap.add_argument("--seed", type=int, default=15, help="shuffle seed of the start order")
    args = ap.parse_args()

    CpuQuota.check()
    atexit.register(CpuQuota.remove_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if not endpoint or not endpoint.startswith("http://"):
        raise SystemExit("coldstart: set AWS_ENDPOINT_URL_DYNAMODB to moto_server's http:// URL "
                         "(run under scripts/with-moto.sh)")
    variants = [v for v in VARIANTS if v != DEFAULT_VARIANT] if args.variants == "all" else [
        v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"coldstart: unknown variants {unknown}; known: {list(VARIANTS)}")
    memory_sizes = [int(m) for m in args.memory.split(",") if m.strip()]
    fixtures = dict(all_routes)
    unknown = [f for f in args.functions if f not in fixtures]
    if unknown:
        raise SystemExit(f"coldstart: unknown functions {unknown}; routes.toml has "
                         f"{list(fixtures)}")
    binaries = {name: args.bin_dir / name for name in [FLOOR, *args.functions]}
    missing = [str(p) for p in binaries.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"coldstart: build first (cargo build --release ...): missing {missing}")
    events = {f: load_event(f, fixtures[f]) for f in args.functions}
    # The floor answers anything; give it the first route's event.
    first_function = all_routes[0][0]
    events[FLOOR] = load_event(first_function, fixtures[first_function])

    region = os.environ.get("AWS_REGION") or "us-east-1"
    aws = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }
    db = Dynamo(endpoint, region, aws["AWS_ACCESS_KEY_ID"])
    table = args.table or f"coldstart-{os.getpid()}"
    if not args.table:
        if not args.local_api.is_file():
            raise SystemExit(f"coldstart: no {args.local_api} (cargo build -p local-api)")
        log(f"creating and seeding table {table} with {args.local_api.name} --init-table")
        # The local server refuses its public development secret on a
        # table; seeding issues no token, so any other secret will do.
        seed_table(args.local_api, table, {"PATH": os.environ.get("PATH", ""), **aws,
                                           "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                                           "JWT_HS256_SECRET": f"coldstart-seed-{os.getpid()}"})
    snapshot = TableSnapshot(db, table)
    log(f"table {table}: {len(snapshot.items)} items")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    work = tempfile.TemporaryDirectory(prefix="coldstart-")
    front = TlsFront(endpoint, Path(work.name) / "tls", args.json.parent / "store-calls.jsonl",
                     args.store_rtt_ms)
    try:
        rtt_before = store_round_trip_ms(front, table, region)
        log(f"TLS front on {front.endpoint} (test CA {front.ca}); a GetItem through it "
            f"takes {rtt_before:.1f} ms")
        trust = trust_files(front.ca, Path(work.name))
        config = {
            **aws,
            "AWS_ENDPOINT_URL_DYNAMODB": front.endpoint,
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

        def variant_env(variant: str) -> dict:
            warmup, roots = VARIANTS[variant]
            env = {**config, "SSL_CERT_FILE": str(trust[roots])}
            if warmup is not None:
                env["DYNAMODB_WARMUP"] = warmup
            return env

        log_dir = args.json.parent / "coldstart-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        logs = {name: open(log_dir / f"{name}.log", "wb") for name in binaries}
        # One cell per (variant, memory, binary); the floor has no variants.
        cells = [(v, m, name) for m in memory_sizes for name in binaries
                 for v in (variants[:1] if name == FLOOR else variants)]
        samples: dict[tuple, list] = {cell: [] for cell in cells}
        quotas = {m: CpuQuota(m, args.period_us) for m in memory_sizes}
        load_before = os.getloadavg()
        rng = random.Random(args.seed)
        log(f"{args.starts} rounds of {len(cells)} starts ({len(binaries)} binaries, memory "
            f"{memory_sizes} MB, variants {variants}), {args.warm} warm requests each "
            f"(load average {load_before[0]:.1f} on {os.cpu_count()} CPUs)")
        began = time.monotonic()
        captured: set[str] = set()
        for round_no in range(-args.discard, args.starts):
            order = list(cells)
            rng.shuffle(order)
            for variant, memory, name in order:
                is_floor = name == FLOOR
                capture = not is_floor and round_no >= 0 and name not in captured
                env = lambda_env(name, "", binaries[name], memory, variant_env(variant))
                result = run_start(
                    name, binaries[name], events[name], env, logs[name],
                    quota=quotas[memory], warm=args.warm,
                    warm_gap_s=args.warm_gap_ms / 1000,
                    restore=None if is_floor else snapshot.restore,
                    front=front if capture else None)
                if not is_floor:
                    snapshot.restore()
                if result.get("log_range"):
                    captured.add(name)
                if round_no >= 0:
                    samples[(variant, memory, name)].append(result)
                if result.get("error"):
                    log(f"{name} ({variant}, {memory} MB): {result['error']}")
            what = f"round {round_no + 1}/{args.starts}" if round_no >= 0 else "warm-up round"
            log(f"{what} done ({time.monotonic() - began:.0f} s)")
        load_after = os.getloadavg()
        rtt_after = store_round_trip_ms(front, table, region)
        for f in logs.values():
            f.close()

        items = {capacity.Table().key_of(i): i for i in snapshot.items.values()}
        units = {}
        for name in args.functions:
            ranges = [s["log_range"] for cell, ss in samples.items() if cell[2] == name
                      for s in ss if s.get("log_range")]
            if ranges:
                units[name] = capacity.request_units(front.calls(*ranges[0]), items)
        slow = slow_store_calls(front.calls(0, front.log_size()))
        if slow["count"]:
            log(f"{slow['count']} store call(s) took moto_server longer than the SDK's "
                f"{SDK_ATTEMPT_TIMEOUT_MS} ms attempt timeout (slowest {slow['slowest_ms']:.0f} ms)")
    finally:
        front.stop()
        work.cleanup()
        CpuQuota.remove_all()

    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
        "starts": args.starts,
        "warm": args.warm,
        "warm_gap_ms": args.warm_gap_ms,
        "memory_sizes": memory_sizes,
        "period_us": args.period_us,
        "variants": variants,
        "default_variant": DEFAULT_VARIANT,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "run_seconds": time.monotonic() - began,
        "store_round_trip_ms": [rtt_before, rtt_after],
        "table": table,
        "table_items": len(snapshot.items),
        "extra_env": args.env,
        "functions": args.functions,
        "fixtures": {f: fixtures[f] for f in args.functions},
        "zipped_bytes": {name: zipped_size(name, args.lambda_dir) for name in binaries},
        "capacity": units,
        "slow_store_calls": slow,
        "cells": {},
    }
    for (variant, memory, name), ss in samples.items():
        summary = summarize(ss)
        summary["samples"] = ss
        results["cells"].setdefault(variant, {}).setdefault(str(memory), {})[name] = summary
    # The floor runs once per memory size: show it in every variant.
    for variant in variants[1:]:
        for memory in map(str, memory_sizes):
            floor = results["cells"][variants[0]][memory][FLOOR]
            results["cells"][variant][memory] = {FLOOR: floor,
                                                 **results["cells"][variant][memory]}
    args.json.write_text(json.dumps(results, indent=1))
    print_tables(results)
    print(f"\nwrote {args.json}")
    failed = sum(s["failed"] for by_memory in results["cells"].values()
                 for cells_ in by_memory.values() for s in cells_.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
