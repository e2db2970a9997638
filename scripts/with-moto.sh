#!/usr/bin/env bash
# Runs a command against a throwaway DynamoDB-compatible server (moto).
#
#   bash scripts/with-moto.sh cargo test -p shared --test store_conformance
#
# Ensures a Python venv at .venv (gitignored) with moto[server], starts
# `moto_server` on a free loopback port, exports the endpoint and dummy AWS
# settings (DYNAMODB_TEST_ENDPOINT, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION,
# credentials, REQUIRE_DYNAMODB=1), runs the command, and always stops the
# server. Exits with the command's exit code.
#
# Needs only python3 (with venv/pip) on the machine. Environment knobs:
#   MOTO_VENV           venv location (default: <repo>/.venv)
#   MOTO_STARTUP_SECS   how long to wait for the server (default: 60)
#   MOTO_LOG            server log file (default: a temporary file)
#   MOTO_SERIALIZE=0    let moto handle requests concurrently (see step 3)
#   MOTO_HOST           address to listen on (default: 127.0.0.1); e.g. the
#                       Docker bridge's address on this machine, so that
#                       functions in containers (sam local) reach it too
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MOTO_VENV:-$repo/.venv}"
startup_secs="${MOTO_STARTUP_SECS:-60}"
host="${MOTO_HOST:-127.0.0.1}"

log() { echo "with-moto: $*" >&2; }

# 1. The venv and moto.
if [ ! -x "$venv/bin/python" ]; then
    log "creating a Python venv at $venv"
    python3 -m venv "$venv" || {
        log "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
        exit 1
    }
fi
if [ ! -x "$venv/bin/moto_server" ]; then
    # The version tests/requirements.txt pins, if it pins one.
    requirement="$(grep -Eo '^moto\[server\][^ #]*' "$repo/tests/requirements.txt" 2>/dev/null | head -n 1 || true)"
    requirement="${requirement:-moto[server]>=5,<6}"
    log "installing $requirement into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" || {
        log "pip install '$requirement' failed"
        exit 1
    }
fi

# 2. A free port (on loopback unless MOTO_HOST says otherwise).
port="$("$venv/bin/python" -c 'import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])
s.close()' "$host")"
endpoint="http://$host:$port"

# 3. The server, stopped whatever happens next.
#
# This is `moto_server -H HOST -p PORT` with two changes, both because
# moto's threaded server does not isolate concurrent writes: a conditional put
# checks, then writes, unlocked; and a failed TransactWriteItems rolls back by
# restoring a copy of each whole table taken when it started, which can undo
# a write that committed meanwhile (and makes every transaction cost a copy
# of the table: ~0.5 s at 500 items). So:
#   1. requests are handled one at a time (connections are still accepted
#      concurrently), so races that DynamoDB settles exactly (one winner of N
#      conditional writes) do not make tests flaky;
#   2. a transaction saves and restores only the items it touches;
#   3. a Query reads only its page: moto answers every Query (of the
#      table or of an index) by iterating every item of the table, sorting
#      the partition and skipping to the page's start, so the time of one
#      page grows with the table and with the partition's history, which
#      DynamoDB's does not (bench/scale.sh measures pages at 1,000 to
#      100,000 requests). Each table keeps, per index, its items by
#      partition key in key order, built on the first Query after any write
#      request; a Query hands moto only the items of its sort-key range
#      from its start key on, as many as its Limit (and one more); moto's
#      own code still checks every key condition on those candidates.
# MOTO_SERIALIZE=0 runs moto as it comes. If moto's layout changes so that a
# patch cannot apply, that patch is skipped with a warning in the output.
read -r -d '' launcher <<'PY' || true
import copy, sys, threading
import moto.server as server

def note(text):
    print("with-moto: " + text, file=sys.stderr, flush=True)

# Bumped by every request that may write: partition caches older than it
# are rebuilt (see indexed_queries).
generation = [0]
READ_ONLY_ACTIONS = {
    "BatchGetItem", "DescribeContinuousBackups", "DescribeTable",
    "DescribeTimeToLive", "GetItem", "ListTables", "ListTagsOfResource",
    "Query", "Scan",
}

def serialize_requests():
    lock = threading.Lock()
    run_simple = server.run_simple

    def serialized(app):
        def handle(environ, start_response):
            action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
            with lock:
                try:
                    return list(app(environ, start_response))
                finally:
                    if action not in READ_ONLY_ACTIONS:
                        generation[0] += 1
        return handle

    server.run_simple = lambda host, port, app, **kw: run_simple(host, port, serialized(app), **kw)

def cheap_transaction_rollback():
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    real_copy = models.copy
    assert real_copy is copy

    class KeepTables:
        """`copy` as the transaction sees it: tables are not copied."""
        @staticmethod
        def deepcopy(value, *args):
            return value if isinstance(value, Table) else real_copy.deepcopy(value, *args)

    def transact_write_items(self, transact_items):
        saved = []
        try:
            for entry in transact_items:
                op = next(iter(entry.values()))
                table = self.get_table(op["TableName"])
                if "Item" in op:
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                hash_value, range_value = self.get_keys_value(table, key)
                current = table.get_item(hash_value, range_value)
                saved.append((table, hash_value, range_value, real_copy.deepcopy(current)))
        except Exception:
            # A malformed request: moto answers it as it does.
            return original(self, transact_items)
        models.copy = KeepTables
        try:
            return original(self, transact_items)
        except BaseException:
            for table, hash_value, range_value, item in reversed(saved):
                if table.range_key_attr is None:
                    if item is None:
                        table.items.pop(hash_value, None)
                    else:
                        table.items[hash_value] = item
                elif item is None:
                    table.items[hash_value].pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = item
            raise
        finally:
            models.copy = real_copy

    DynamoDBBackend.transact_write_items = transact_write_items

def indexed_queries():
    import bisect
    from moto.dynamodb.models.table import Table

    original = Table.query
    TOP = "\U0010ffff"

    def text(value):
        """The string of a DynamoType or of a raw {"S": ...} value, else None."""
        if isinstance(value, dict):
            return value.get("S")
        if value is not None and getattr(value, "type", None) == "S":
            return value.value
        return None

    def partitions(table, index_name, hash_attrs, sort_attrs):
        cache = table.__dict__.get("_partitions")
        if cache is None or cache[0] != generation[0]:
            cache = (generation[0], {})
            table.__dict__["_partitions"] = cache
        by_key = cache[1].get(index_name)
        if by_key is None:
            by_key = {}
            for item in table.all_items():
                values = tuple(item.attrs.get(a) for a in hash_attrs)
                if all(v is not None for v in values):
                    by_key.setdefault(values, []).append(item)
            # Each partition in key order, with its sort tuples (strings),
            # or None where a key is not a string (then it is not narrowed).
            for key, items in by_key.items():
                tuples = [tuple(text(i.attrs.get(a)) for a in sort_attrs) for i in items]
                if all(None not in t for t in tuples):
                    pairs = sorted(zip(tuples, range(len(items))))
                    by_key[key] = (items, [t for t, _ in pairs], [items[i] for _, i in pairs])
                else:
                    by_key[key] = (items, None, None)
            cache[1][index_name] = by_key
        return by_key

    def page_of(entry, sort_attrs, comparison, values, limit, start, forward):
        """The items of a partition a page may answer with, or all of them."""
        items, tuples, ordered = entry
        if tuples is None or not isinstance(limit, int) or limit <= 0:
            return list(items)
        bounds = [text(v) for v in (values or [])]
        if None in bounds:
            return list(items)
        low, high = "", TOP
        if comparison in ("EQ", "="):
            low = high = bounds[0]
        elif comparison in ("GE", ">=", "GT", ">"):
            low = bounds[0]
        elif comparison in ("LE", "<=", "LT", "<"):
            high = bounds[0]
        elif comparison == "BETWEEN":
            low, high = bounds[0], bounds[1]
        elif comparison == "BEGINS_WITH":
            low, high = bounds[0], bounds[0] + TOP
        elif comparison:
            return list(items)
        # Every tuple whose sort key lies in [low, high], ties included.
        first = bisect.bisect_left(tuples, (low,))
        last = bisect.bisect_right(tuples, (high + TOP,))
        if start:
            at = tuple(text(start.get(a)) for a in sort_attrs)
            if None in at:
                return list(items)
            # From the start key on, itself included: moto skips it.
            if forward:
                first = max(first, bisect.bisect_left(tuples, at))
            else:
                last = min(last, bisect.bisect_right(tuples, at))
        if forward:
            return ordered[first:min(last, first + limit + 2)]
        return ordered[max(first, last - limit - 2):last]

    def candidates(table, hash_key, index_name, hash_key_conditions, args):
        comparison = args[0] if len(args) > 0 else None
        values = args[1] if len(args) > 1 else None
        limit = args[2] if len(args) > 2 else None
        start = args[3] if len(args) > 3 else None
        forward = args[4] if len(args) > 4 else True
        if not index_name:
            if hash_key is None or table.range_key_attr is None:
                return None
            sort_attrs = [table.range_key_attr]
            hash_attrs = [table.hash_key_attr]
            entry = partitions(table, None, hash_attrs, sort_attrs).get((hash_key,))
        else:
            index = {i.name: i for i in table.all_indexes()}.get(index_name)
            if index is None:
                return None  # moto's own validation error
            hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            range_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            given = dict(hash_key_conditions or [])
            if not hash_attrs or any(a not in given for a in hash_attrs) or len(range_attrs) != 1:
                return None
            # Moto's order within an index partition: its sort key, then
            # the table's keys.
            sort_attrs = range_attrs + [table.hash_key_attr, table.range_key_attr]
            key = tuple(given[a] for a in hash_attrs)
            entry = partitions(table, index_name, hash_attrs, sort_attrs).get(key)
        if entry is None:
            return []
        return page_of(entry, sort_attrs, comparison, values, limit, start, forward is not False)

    def query(self, hash_key, *args, **kwargs):
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        narrowed = candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"), args)
        if narrowed is None:
            return original(self, hash_key, *args, **kwargs)
        self.all_items = lambda: narrowed
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query

if sys.argv[1] == "0":
    note("MOTO_SERIALIZE=0: moto handles requests concurrently, as it comes")
else:
    for patch in (serialize_requests, cheap_transaction_rollback, indexed_queries):
        try:
            patch()
            note("patched: " + patch.__name__)
        except Exception as e:
            note("WARNING: cannot apply %s (%r): concurrent writes may race" % (patch.__name__, e))
            break
server.main(sys.argv[2:])
PY
server_log="${MOTO_LOG:-$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX.log")}"
"$venv/bin/python" -c "$launcher" "${MOTO_SERIALIZE:-1}" -H "$host" -p "$port" >"$server_log" 2>&1 &
server_pid=$!

stop_server() {
    if ! kill -0 "$server_pid" 2>/dev/null; then
        log "moto_server had stopped before the command ended; the end of its log:"
        tail -n 40 "$server_log" >&2 || true
    else
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    if [ -z "${MOTO_LOG:-}" ]; then rm -f "$server_log"; fi
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 4. Wait (bounded) until it answers a DynamoDB call.
ready=0
deadline=$((SECONDS + startup_secs))
while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        log "moto_server exited during start-up; its log:"
        cat "$server_log" >&2 || true
        exit 1
    fi
    if "$venv/bin/python" - "$endpoint" <<'EOF' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(
    sys.argv[1] + "/",
    data=b"{}",
    headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
    },
)
with urllib.request.urlopen(req, timeout=2) as r:
    sys.exit(0 if r.status == 200 and b"TableNames" in r.read() else 1)
EOF
    then
        ready=1
        break
    fi
    sleep 0.2
done
if [ "$ready" -ne 1 ]; then
    log "moto_server did not answer on $endpoint within ${startup_secs}s; its log:"
    cat "$server_log" >&2 || true
    exit 1
fi
log "moto_server ready on $endpoint (pid $server_pid)"
grep -h "^with-moto:" "$server_log" >&2 || true

# 5. The command, with the endpoint and dummy AWS settings.
export DYNAMODB_TEST_ENDPOINT="$endpoint"
export AWS_ENDPOINT_URL_DYNAMODB="$endpoint"
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
unset AWS_SESSION_TOKEN AWS_PROFILE
export REQUIRE_DYNAMODB=1

status=0
"$@" || status=$?
exit "$status"
