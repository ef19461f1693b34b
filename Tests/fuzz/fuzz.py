#!/usr/bin/env python3
"""Black-box fuzz suite for ``fnhost serve``: hostile requests on every surface must never crash,
hang or 5xx the host, leak a worker, or grow its memory.

Surfaces (each gets ``--requests`` requests, request ``i`` built from ``random.Random(f"{seed}:{surface}:{i}")``
as a structured mutation of a valid request, so most requests get past the router):

    invoke    POST /2015-03-31/functions/NAME/invocations (and the legacy invoke-async): names
              (ARNs, aliases, percent-encoded, overlong), Qualifier, X-Amz-Invocation-Type,
              X-Amz-Log-Type, X-Amz-Client-Context, bodies (mutated, invalid, huge, deeply nested JSON)
    control   ListFunctions (Marker, MaxItems), GetFunction(Configuration), Put/Get/DeleteFunctionConcurrency,
              Put/Get/DeleteProvisionedConcurrencyConfig, event-invoke-config, account settings, /metrics
    sqs       POST / with X-Amz-Target: AmazonSQS.<Operation>: wrong types, negative and huge numbers,
              huge strings, missing fields, bad receipt handles, batch entries
    runtime   the Runtime API, from a hostile worker (Tests/Fixtures/functions/fuzz/hostile_runtime.py)
              that sends the requests to its own AWS_LAMBDA_RUNTIME_API and reports what it got

Every request is sent on a raw socket (the fuzzer controls every byte, framing included) and must
get a complete response or a close within ``--timeout`` seconds; after a timeout the host must
still answer a probe, or it is wedged (killed and replaced for the next surface, like a crash). A request fails if it times out
or gets a 5xx: no 5xx is on purpose here (the one 5xx the serve port gives on purpose, 503 past
``--max-connections``, cannot happen with this suite's few connections; a shutting-down host's 503
does not happen mid-run). After each surface the suite checks that the host is alive, that its
descendants return to the count before the run (workers stop after ``--idle-timeout 1``; a worker
that outlives that is leaked), and that a healthy invoke of ``Healthy`` echoes its event. At the
end, the host's VmRSS may have grown by at most 20 MB since the warm-up (see ``warm_up``).

Prints a JSON summary and exits 1 on any failure, after writing the offending requests (base64)
to ``--failures`` (JSON lines) for ``--replay``.

    python3 Tests/fuzz/fuzz.py --requests 10000 --seed 1          # the full run
    python3 Tests/fuzz/fuzz.py --replay fuzz-failures.jsonl       # resend what failed

``FNHOST_BIN`` (or ``--fnhost``) names the host binary (default ``<repo>/.build/debug/fnhost``).
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote as _quote

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests" / "Fixtures" / "functions" / "fuzz"))

from rawhttp import Mutator, Outcome, RawRequest, exchange, http_request  # noqa: E402

TEMPLATE = REPO / "Tests" / "Fixtures" / "fuzz" / "template.yaml"
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
SURFACES = ("invoke", "control", "sqs", "kinesis", "runtime")
RSS_GROWTH_LIMIT_KB = 20 * 1024
#: The host's flags: short idle and client timeouts keep the run fast, and 120 leaves the fuzzed
#: Put*Concurrency calls only 20 workers to reserve or provision (Tests/Fixtures/fuzz/template.yaml).
HOST_FLAGS = ("--max-concurrency", "120", "--idle-timeout", "1", "--client-timeout", "1")
#: 5xx responses that are the service's shape on purpose: none can occur in this suite (see above).
ALLOWED_5XX: set[tuple[int, str]] = set()


# The host -----------------------------------------------------------------------------------------


@dataclass
class Host:
    """One ``fnhost serve`` on the fuzz template, in a state directory of its own."""

    binary: Path
    state_dir: Path
    process: subprocess.Popen | None = None
    port: int = 0

    def start(self, timeout: float = 60.0) -> "Host":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        stdout = self.state_dir / "host.stdout"
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
        with open(stdout, "wb") as out, open(self.state_dir / "host.stderr", "wb") as err:
            self.process = subprocess.Popen(
                [str(self.binary), "serve", "--template", str(TEMPLATE), "--port", "0",
                 "--state-dir", str(self.state_dir / "state"), *HOST_FLAGS],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=str(REPO), env=env)
        deadline = time.monotonic() + timeout
        marker = "fnhost listening on http://127.0.0.1:"
        while time.monotonic() < deadline:
            text = stdout.read_text(errors="replace")
            if marker in text:
                self.port = int(text.split(marker, 1)[1].split(" ", 1)[0])
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"fnhost exited with {self.process.returncode} before it was ready:\n"
                                   f"{self.stderr_tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"fnhost was not ready within {timeout} s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_tail(self, size: int = 3000) -> str:
        path = self.state_dir / "host.stderr"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                return None
        return self.process.returncode


def descendants(pid: int) -> set[int]:
    """Every live (non-zombie) process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        states[int(entry.name)] = fields[0]
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return {p for p in found if states.get(p) not in ("Z", "X")}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def invoke(port: int, name: str, event, timeout: float = 60.0) -> Outcome:
    body = json.dumps(event).encode()
    return exchange("127.0.0.1", port, http_request("POST", f"/2015-03-31/functions/{name}/invocations", [], body),
                    timeout)


def responsive(port: int, timeout: float = 10.0) -> bool:
    """Whether the host still answers a cheap request (GetAccountSettings) within ``timeout``."""
    outcome = exchange("127.0.0.1", port, http_request("GET", "/2016-08-19/account-settings", [], b""), timeout)
    return outcome.kind == "answered"


def healthy(port: int, probe: str) -> str | None:
    """``None`` if ``Healthy`` echoes ``probe``; otherwise what went wrong."""
    outcome = invoke(port, "Healthy", {"probe": probe}, timeout=30)
    if outcome.kind != "answered" or outcome.status != 200:
        return f"healthy invoke got {outcome.kind} {outcome.status} {outcome.body[:300]!r}"
    try:
        answer = json.loads(outcome.body)
    except ValueError:
        answer = None
    return None if answer == {"echo": {"probe": probe}} else f"healthy invoke answered {outcome.body[:300]!r}"


# Request generators ------------------------------------------------------------------------------


def quote(text: str, safe: str = "") -> str:
    """Percent-encodes ``text`` (lone surrogates included, as their UTF-8-like bytes)."""
    return _quote(text, safe=safe, errors="surrogatepass")


def pick_name(m: Mutator, valid: list[str]) -> str:
    name = m.rng.choice(valid)
    r = m.rng.random()
    if r < 0.8:
        return name
    if r < 0.84:
        return FUNCTION_ARN + name + m.rng.choice(["", ":live", ":$LATEST", ":1", ":", ":nope"])
    if r < 0.86:
        return f"{ACCOUNT}:function:{name}"
    if r < 0.89:
        return quote(m.rng.choice([name, FUNCTION_ARN + name, name + ":live"]), safe="")
    if r < 0.91:
        return "%" + "".join(f"{b:02X}" for b in name.encode())[1:]
    if r < 0.95:
        return m.rng.choice(["a" * 65, "a" * 141, "b" * 1000, "c" * 70_000, "Nope", "arn:aws:lambda:x", "..", "%2e%2e"])
    return quote(m.mutate_text(name), safe=m.rng.choice(["", "/:%", "/"]))


def query(m: Mutator, params: dict[str, str]) -> str:
    items = list(params.items())
    if m.chance(0.3):
        items.append((m.rng.choice(["Qualifier", "Marker", "MaxItems", "FunctionVersion", m.string()[:20]]),
                      m.string()))
    if m.chance(0.1):
        items += items
    encoded = "&".join(f"{quote(k, safe='')}={quote(v, safe='') if m.chance(0.9) else v}" for k, v in items)
    return ("?" + encoded) if encoded else ""


def invoke_request(m: Mutator, context: dict) -> RawRequest:
    rng = m.rng
    name = pick_name(m, ["Echo"] * 8 + ["Echo:$LATEST", "Echo:live", "Target", "Nope"])
    params = {}
    if m.chance(0.2):
        params["Qualifier"] = rng.choice(["$LATEST", "$LATEST", "live", "1", "-1", "$", m.string()])
    path = f"/2015-03-31/functions/{name}/invocations"
    if m.chance(0.05):
        path = f"/2014-11-13/functions/{name}/invoke-async"
    invocation_type = rng.choice(["RequestResponse", "RequestResponse", "Event", "DryRun", None, m.header_value()])
    headers = []
    if invocation_type is not None:
        headers.append(("X-Amz-Invocation-Type", invocation_type))
    if m.chance(0.3):
        headers.append(("X-Amz-Log-Type", rng.choice(["Tail", "None", "tail", m.header_value()])))
    if m.chance(0.3):
        context_json = json.dumps({"custom": m.value(), "env": {"k": m.string()}, "client": m.value()})
        headers.append(("X-Amz-Client-Context", rng.choice([
            base64.b64encode(context_json.encode("utf-8", "surrogatepass")).decode(),
            base64.b64encode(m.broken_json(b'{"custom":{}}')[:5000]).decode(),
            m.header_value(), "=" * 10, base64.b64encode(b"x" * 3000).decode(), base64.b64encode(b"null").decode()])))
    if m.chance(0.2):
        headers.append(("Content-Type", rng.choice(["application/json", "text/plain", "", m.header_value()])))
    headers += m.header_block()
    valid = json.dumps({"n": context["index"], "items": [1, "two", {"three": 3}], "ok": True}).encode()
    if m.chance(0.03):
        body = b'"' + b"x" * rng.choice([1_048_577, 6 * 1024 * 1024 + 1, 7 * 1024 * 1024]) + b'"'
    else:
        body = m.body(valid) if m.chance(0.8) else rng.choice([b"", b"null", b"  ", b"{}"])
    method = "POST" if m.chance(0.94) else rng.choice(["GET", "PUT", "CONNECT", "DELETE", "HEAD", "OPTIONS"])
    return m.frame(method, path + query(m, params), headers, body)


CONTROL_NAMES = ["Target", "TargetTwo", "Target", "Nope"]


def control_request(m: Mutator, context: dict) -> RawRequest:
    rng = m.rng
    name = pick_name(m, CONTROL_NAMES)
    number = lambda valid: str(valid if m.chance(0.4) else m.number())  # noqa: E731
    operations = [
        ("GET", "/2015-03-31/functions", {"Marker": rng.choice(["", "1", "0", "-1", "999999999999999999999",
                                                                  m.string()]), "MaxItems": number(2)}, None),
        ("GET", "/2015-03-31/functions", {"FunctionVersion": rng.choice(["ALL", m.string()]),
                                          "MasterRegion": rng.choice(["ALL", m.string()])}, None),
        ("GET", f"/2015-03-31/functions/{name}", {"Qualifier": rng.choice(["live", "$LATEST", "1", m.string()])}
         if m.chance(0.3) else {}, None),
        ("GET", f"/2015-03-31/functions/{name}/configuration", {}, None),
        ("PUT", f"/2017-10-31/functions/{name}/concurrency", {}, {"ReservedConcurrentExecutions": rng.choice([0, 1, 3])}),
        ("GET", f"/2019-09-30/functions/{name}/concurrency", {}, None),
        ("DELETE", f"/2017-10-31/functions/{name}/concurrency", {}, None),
        ("PUT", f"/2019-09-30/functions/{name}/provisioned-concurrency",
         {"Qualifier": rng.choice(["live", "live", "1", "$LATEST", m.string()])},
         {"ProvisionedConcurrentExecutions": rng.choice([1, 2])}),
        ("GET", f"/2019-09-30/functions/{name}/provisioned-concurrency",
         {"List": "ALL"} if m.chance(0.3) else {"Qualifier": rng.choice(["live", "1"])}, None),
        ("DELETE", f"/2019-09-30/functions/{name}/provisioned-concurrency", {"Qualifier": "live"}, None),
        (rng.choice(["PUT", "POST"]), f"/2019-09-25/functions/{name}/event-invoke-config",
         {"Qualifier": "$LATEST"} if m.chance(0.2) else {},
         {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 120,
          "DestinationConfig": {"OnSuccess": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:fuzz-queue"},
                                "OnFailure": {"Destination": FUNCTION_ARN + "TargetTwo"}}}),
        ("GET", f"/2019-09-25/functions/{name}/event-invoke-config", {}, None),
        ("DELETE", f"/2019-09-25/functions/{name}/event-invoke-config", {}, None),
        ("GET", f"/2019-09-25/functions/{name}/event-invoke-config/list", {"Marker": m.string(), "MaxItems": number(5)}
         if m.chance(0.5) else {}, None),
        ("GET", "/2016-08-19/account-settings", {}, None),
        ("GET", "/metrics", {"name[]": m.string()} if m.chance(0.2) else {}, None),
    ]
    method, path, params, document = rng.choice(operations)
    if m.chance(0.08):
        method = rng.choice(["PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "POST", "PUT", "DELETE", "GET", "get"])
    body = b""
    if document is not None:
        body = json.dumps(document).encode()
        if m.chance(0.8):
            body = m.body(body)
    elif m.chance(0.1):
        body = m.body(b'{"a": 1}')
    raw = m.frame(method, path + query(m, params), m.header_block(), body)
    raw.head_request = method == "HEAD"
    return raw


def sqs_request(m: Mutator, context: dict) -> RawRequest:
    rng = m.rng
    base = f"http://127.0.0.1:{context['port']}/{ACCOUNT}/"
    queue_url = rng.choice([base + "fuzz-queue", base + "fuzz-queue", base + "fuzz-fifo.fifo", base + "fuzz-scratch",
                            base + "nope", f"http://127.0.0.1:1/{ACCOUNT}/fuzz-queue", base, "fuzz-queue"])
    handles = context["handles"] or ["AQEB"]
    handle = rng.choice(handles)
    fifo = queue_url.endswith(".fifo")
    group = {"MessageGroupId": rng.choice(["g1", "g2"]), "MessageDeduplicationId": str(m.rng.randrange(10**9))} \
        if fifo else {}
    attributes = {"color": {"DataType": "String", "StringValue": "red"},
                  "n": {"DataType": "Number", "StringValue": "42"},
                  "b": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\x01").decode()}}
    entries = lambda make: [make(i) for i in range(rng.choice([1, 2, 10]))]  # noqa: E731
    operations = {
        "CreateQueue": {"QueueName": rng.choice(["fuzz-scratch", "fuzz-scratch.fifo", "fuzz-queue"]),
                        "Attributes": {"VisibilityTimeout": "30", "DelaySeconds": "0", "MaximumMessageSize": "262144",
                                       "MessageRetentionPeriod": "345600", "ReceiveMessageWaitTimeSeconds": "0"}},
        "GetQueueUrl": {"QueueName": rng.choice(["fuzz-queue", "fuzz-fifo.fifo", "nope"]),
                        "QueueOwnerAWSAccountId": ACCOUNT},
        "ListQueues": {"QueueNamePrefix": "fuzz", "MaxResults": 2, "NextToken": rng.choice(["", "1", "2", "-1"])},
        "GetQueueAttributes": {"QueueUrl": queue_url, "AttributeNames": ["All"]},
        "SetQueueAttributes": {"QueueUrl": queue_url, "Attributes": {"VisibilityTimeout": "5",
                                                                     "RedrivePolicy": json.dumps({
                                                                         "deadLetterTargetArn":
                                                                         f"arn:aws:sqs:us-east-1:{ACCOUNT}:fuzz-scratch",
                                                                         "maxReceiveCount": 3})}},
        "SendMessage": {"QueueUrl": queue_url, "MessageBody": "hello", "DelaySeconds": 0,
                        "MessageAttributes": attributes,
                        "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}},
                        **group},
        "SendMessageBatch": {"QueueUrl": queue_url, "Entries": entries(lambda i: {
            "Id": f"e{i}", "MessageBody": f"m{i}", "MessageAttributes": attributes, **group})},
        "ReceiveMessage": {"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 0,
                           "WaitTimeSeconds": 0, "AttributeNames": ["All"], "MessageAttributeNames": ["All"],
                           "MessageSystemAttributeNames": ["All"], "ReceiveRequestAttemptId": "a"},
        "DeleteMessage": {"QueueUrl": queue_url, "ReceiptHandle": handle},
        "DeleteMessageBatch": {"QueueUrl": queue_url, "Entries": entries(lambda i: {
            "Id": f"d{i}", "ReceiptHandle": rng.choice(handles)})},
        "ChangeMessageVisibility": {"QueueUrl": queue_url, "ReceiptHandle": handle, "VisibilityTimeout": 0},
        "ChangeMessageVisibilityBatch": {"QueueUrl": queue_url, "Entries": entries(lambda i: {
            "Id": f"c{i}", "ReceiptHandle": rng.choice(handles), "VisibilityTimeout": 0})},
        "PurgeQueue": {"QueueUrl": base + "fuzz-scratch"},
        "DeleteQueue": {"QueueUrl": base + "fuzz-scratch"},
    }
    operation = rng.choice(list(operations))
    document = operations[operation]
    # Mutate a few times, and often deep inside (batch entries, attributes).
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        if not isinstance(document, dict):
            break
        if m.chance(0.3) and isinstance(document.get("Entries"), list) and document["Entries"]:
            document = dict(document, Entries=m.mutate_json(document["Entries"]))
        elif m.chance(0.2) and "MessageAttributes" in document:
            document = dict(document, MessageAttributes=m.mutate_json(document["MessageAttributes"]))
        elif m.chance(0.2) and "ReceiptHandle" in document:
            document = dict(document, ReceiptHandle=rng.choice([
                m.mutate_text(handle), base64.b64encode(m.string().encode("utf-8", "surrogatepass")).decode(),
                handle[: len(handle) // 2], "", m.number()]))
        else:
            document = m.mutate_json(document)
    body = json.dumps(document).encode("utf-8", "surrogatepass") if m.chance(0.85) else m.broken_json(b'{"QueueUrl":""}')
    if m.chance(0.03):
        body = json.dumps({"QueueUrl": base + "fuzz-queue", "MessageBody": "x" * rng.choice([262_145, 2_000_000])}).encode()
    target = "AmazonSQS." + (operation if m.chance(0.9) else m.mutate_text(operation))
    headers = [("X-Amz-Target", target), ("Content-Type", "application/x-amz-json-1.0")]
    if m.chance(0.05):
        headers = [h for h in headers if m.chance(0.5)]
    headers += m.header_block()
    method = "POST" if m.chance(0.95) else rng.choice(["GET", "PUT", "DELETE"])
    return m.frame(method, "/" if m.chance(0.95) else "/" + m.string(), headers, body)


def kinesis_request(m: Mutator, context: dict) -> RawRequest:
    rng = m.rng
    stream = rng.choice(["fuzz-stream", "fuzz-stream", "fuzz-scratch-stream", "nope", "", "a/b"])
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream}"
    named = {"StreamName": stream} if m.chance(0.7) else {"StreamARN": arn}
    iterator = rng.choice(context.get("iterators") or ["AAAA"])
    shard = rng.choice(["shardId-000000000000", "shardId-000000000001", "shardId-000000000009", "shardId-1", ""])
    data = base64.b64encode(m.string().encode("utf-8", "surrogatepass")[:1000]).decode()
    records = lambda: [{"Data": data, "PartitionKey": f"k{i}"} for i in range(rng.choice([1, 2, 500, 501]))]  # noqa: E731
    operations = {
        "CreateStream": {"StreamName": "fuzz-scratch-stream", "ShardCount": rng.choice([1, 2, 0, 1001])},
        "DeleteStream": {"StreamName": "fuzz-scratch-stream"},
        "DescribeStream": {**named, "Limit": rng.choice([1, 100, 0, 10001]), "ExclusiveStartShardId": shard},
        "DescribeStreamSummary": named,
        "ListShards": rng.choice([{**named, "MaxResults": 1}, {"NextToken": m.mutate_text("djEKZnV6ei1zdHJlYW0KeA==")}]),
        "ListStreams": {"Limit": rng.choice([1, 2, 0]), "ExclusiveStartStreamName": "fuzz"},
        "PutRecord": {**named, "Data": data, "PartitionKey": "k", "ExplicitHashKey": rng.choice(["0", "1" * 40, "-1"])},
        "PutRecords": {**named, "Records": records()},
        "GetShardIterator": {**named, "ShardId": shard, "ShardIteratorType": rng.choice([
            "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"]),
            "StartingSequenceNumber": rng.choice(["49" + "0" * 30, "1", m.number()]), "Timestamp": m.number()},
        "GetRecords": {"ShardIterator": iterator, "Limit": rng.choice([1, 10000, 0, 10001])},
    }
    operation = rng.choice(list(operations))
    document = operations[operation]
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        if not isinstance(document, dict):
            break
        if m.chance(0.3) and isinstance(document.get("Records"), list) and document["Records"]:
            document = dict(document, Records=m.mutate_json(document["Records"]))
        elif m.chance(0.3) and "ShardIterator" in document:
            document = dict(document, ShardIterator=rng.choice([
                m.mutate_text(iterator), iterator[: len(iterator) // 2], "", m.number(),
                base64.b64encode(m.string().encode("utf-8", "surrogatepass")).decode()]))
        else:
            document = m.mutate_json(document)
    body = json.dumps(document).encode("utf-8", "surrogatepass") if m.chance(0.85) else m.broken_json(b'{"StreamName":""}')
    target = "Kinesis_20131202." + (operation if m.chance(0.9) else m.mutate_text(operation))
    headers = [("X-Amz-Target", target), ("Content-Type", "application/x-amz-json-1.1")]
    headers += m.header_block()
    method = "POST" if m.chance(0.95) else rng.choice(["GET", "PUT", "DELETE"])
    return m.frame(method, "/" if m.chance(0.95) else "/" + m.string(), headers, body)


GENERATORS = {"invoke": invoke_request, "control": control_request, "sqs": sqs_request, "kinesis": kinesis_request}


# Running a surface -------------------------------------------------------------------------------


@dataclass
class SurfaceReport:
    """Counts of one surface, and its failing requests."""

    sent: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    error_types: dict[str, int] = field(default_factory=dict)
    parked: int = 0
    unreported: int = 0
    crashes: int = 0
    wedged: bool = False
    failures: list[dict] = field(default_factory=list)
    failure_count: int = 0
    fuzzer_errors: list[str] = field(default_factory=list)
    lost_batches: list[str] = field(default_factory=list)
    seconds: float = 0.0
    checks: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status_class: str, amount: int = 1):
        self.classes[status_class] = self.classes.get(status_class, 0) + amount

    def count_error(self, outcome: Outcome, amount: int = 1):
        if outcome.kind == "answered" and outcome.status >= 400:
            key = f"{outcome.status} {outcome.error_type or '-'}"
            self.error_types[key] = self.error_types.get(key, 0) + amount

    def fail(self, record: dict):
        self.failure_count += 1
        if len(self.failures) < 20:
            self.failures.append(record)

    def summary(self) -> dict:
        return {"sent": self.sent, "answered": {k: v for k, v in sorted(self.classes.items()) if k.endswith("xx")},
                "closed": self.classes.get("closed", 0), "timeouts": self.classes.get("timeout", 0),
                "parked_next": self.parked, "unreported": self.unreported, "crashes": self.crashes, "wedged": self.wedged,
                "failures": self.failure_count, "seconds": round(self.seconds, 1), "checks": self.checks,
                "fuzzer_errors": self.fuzzer_errors[:5], "lost_batches": self.lost_batches,
                "errors": dict(sorted(self.error_types.items(), key=lambda item: -item[1])[:12])}


def judge(outcome: Outcome) -> str | None:
    """Why ``outcome`` is a failure, or ``None``."""
    if outcome.kind == "timeout":
        return "no complete response and no close within the timeout"
    if outcome.kind == "answered" and outcome.status >= 500 and (outcome.status, outcome.error_type) not in ALLOWED_5XX:
        return f"{outcome.status} {outcome.error_type}"
    return None


def run_socket_surface(host: Host, surface: str, args, context: dict, seed: str | None = None,
                       count: int | None = None) -> SurfaceReport:
    """Sends requests ``0 ..< count`` (default ``--requests``) of ``surface`` from ``seed`` (default ``--seed``)."""
    seed = str(args.seed) if seed is None else seed
    report = SurfaceReport()
    generate = GENERATORS[surface]
    crashed = threading.Event()

    def one(index: int):
        if crashed.is_set():
            return
        rng = random.Random(f"{seed}:{surface}:{index}")
        try:
            raw = generate(Mutator(rng), dict(context, index=index, port=host.port))
            outcome = exchange("127.0.0.1", host.port, raw.data, args.timeout, raw.half_close, raw.head_request)
        except Exception as error:  # the fuzzer's own bug: reported, and the run goes on
            with report.lock:
                report.fuzzer_errors.append(f"{surface} {index}: {error!r}")
            return
        reason = judge(outcome)
        if outcome.kind != "answered" and not host.alive():
            crashed.set()
            reason = f"the host died (exit {host.process.returncode})"
        elif outcome.kind == "timeout" and not crashed.is_set() and not responsive(host.port):
            crashed.set()
            report.wedged = True
            reason = "the host stopped answering (wedged) after this request"
        with report.lock:
            report.sent += 1
            report.count(outcome.status_class())
            report.count_error(outcome)
            if reason:
                report.fail({"surface": surface, "seed": seed, "index": index, "reason": reason,
                             "note": raw.note, "half_close": raw.half_close, "head_request": raw.head_request,
                             "response": outcome.body[:300].decode("utf-8", "replace"),
                             "request": base64.b64encode(raw.data).decode()})

    with ThreadPoolExecutor(args.parallel) as pool:
        list(pool.map(one, range(args.requests if count is None else count)))
    if crashed.is_set():
        report.crashes += 1
    return report


def run_runtime_surface(host: Host, args) -> SurfaceReport:
    """Drives HostileRuntime in batches; each batch is one invoke whose result is the worker's report."""
    report = SurfaceReport()
    batches = [(start, min(args.runtime_batch, args.requests - start))
               for start in range(0, args.requests, args.runtime_batch)]

    def one(batch):
        start, count = batch
        if report.wedged:
            report.unreported += count
            return
        event = {"fuzz": {"seed": args.seed, "start": start, "count": count, "timeout": args.timeout}}
        outcome = invoke(host.port, "HostileRuntime", event, timeout=count * 2 + 30)
        if outcome.kind == "timeout" and not responsive(host.port):
            report.wedged = True
        try:
            result = json.loads(outcome.body) if outcome.kind == "answered" and outcome.status == 200 else None
        except ValueError:
            result = None
        with report.lock:
            if not isinstance(result, dict) or "sent" not in result:
                # The worker was killed or replaced mid-batch: legitimate, but its counts are lost.
                report.unreported += count
                if len(report.lost_batches) < 5:
                    report.lost_batches.append(f"{start}+{count}: {outcome.kind} {outcome.status} "
                                               f"{outcome.body[:200].decode('utf-8', 'replace')}")
                reason = judge(outcome)
                if outcome.kind != "answered" and not host.alive():
                    reason, report.crashes = f"the host died (exit {host.process.returncode})", report.crashes + 1
                elif report.wedged:
                    reason = "the host stopped answering (wedged) during this batch"
                if reason:
                    report.fail({"surface": "runtime", "seed": args.seed, "index": start, "count": count,
                                 "reason": f"the batch's invoke: {reason}",
                                 "response": outcome.body[:300].decode("utf-8", "replace")})
                return
            report.sent += result["sent"]
            report.parked += result["parked"]
            for status_class, amount in result["classes"].items():
                report.count(status_class, amount)
            for key, amount in result.get("errors", {}).items():
                report.error_types[key] = report.error_types.get(key, 0) + amount
            report.failure_count += result.get("failure_count", 0)
            for failure in result["failures"]:
                if len(report.failures) < 20:
                    report.failures.append({"surface": "runtime", "seed": args.seed,
                                            "reason": f"{failure['kind']} {failure['status']} {failure['error_type']}",
                                            "runtime_api": True, **failure})

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, batches))
    return report


def describe(pid: int) -> str:
    """``pid``, its function (from its environment), state and command line, for a leak report."""
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        function = next((e.split(b"=", 1)[1].decode() for e in environment
                         if e.startswith(b"AWS_LAMBDA_FUNCTION_NAME=")), "?")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:100].decode(errors="replace")
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} {function} {state} {command}"


def settle(host: Host, baseline: int, timeout: float) -> str | None:
    """Waits for the host's descendants to drop back to ``baseline``; ``None`` if they do."""
    deadline = time.monotonic() + timeout
    while True:
        found = descendants(host.process.pid)
        if len(found) <= baseline:
            return None
        if time.monotonic() >= deadline:
            described = [describe(pid) for pid in sorted(found)[:10]]
            return f"{len(found)} descendants {timeout} s after the surface (baseline {baseline}): {described}"
        time.sleep(0.2)


def sqs_call(port: int, operation: str, document: dict) -> dict:
    raw = http_request("POST", "/", [("X-Amz-Target", "AmazonSQS." + operation),
                                     ("Content-Type", "application/x-amz-json-1.0")], json.dumps(document).encode())
    outcome = exchange("127.0.0.1", port, raw, 10)
    return json.loads(outcome.body) if outcome.kind == "answered" and outcome.status == 200 else {}


def receipt_handles(port: int) -> list[str]:
    """Real receipt handles to mutate (the messages become visible again at once)."""
    base = f"http://127.0.0.1:{port}/{ACCOUNT}/"
    sqs_call(port, "CreateQueue", {"QueueName": "fuzz-scratch"})
    handles = []
    for queue in ("fuzz-queue", "fuzz-scratch"):
        for i in range(10):
            sqs_call(port, "SendMessage", {"QueueUrl": base + queue, "MessageBody": f"seed {i}"})
        received = sqs_call(port, "ReceiveMessage", {"QueueUrl": base + queue, "MaxNumberOfMessages": 10,
                                                     "VisibilityTimeout": 1})
        handles += [message["ReceiptHandle"] for message in received.get("Messages", [])]
    sqs_call(port, "SendMessage", {"QueueUrl": base + "fuzz-fifo.fifo", "MessageBody": "f", "MessageGroupId": "g1",
                                   "MessageDeduplicationId": "seed"})
    received = sqs_call(port, "ReceiveMessage", {"QueueUrl": base + "fuzz-fifo.fifo", "VisibilityTimeout": 1})
    handles += [message["ReceiptHandle"] for message in received.get("Messages", [])]
    return handles


def kinesis_call(port: int, operation: str, document: dict) -> dict:
    raw = http_request("POST", "/", [("X-Amz-Target", "Kinesis_20131202." + operation),
                                     ("Content-Type", "application/x-amz-json-1.1")], json.dumps(document).encode())
    outcome = exchange("127.0.0.1", port, raw, 10)
    return json.loads(outcome.body) if outcome.kind == "answered" and outcome.status == 200 else {}


def shard_iterators(port: int) -> list[str]:
    """Real shard iterators of fuzz-stream to mutate (one per type that needs no argument, per shard)."""
    kinesis_call(port, "PutRecords", {"StreamName": "fuzz-stream", "Records": [
        {"Data": base64.b64encode(f"seed {i}".encode()).decode(), "PartitionKey": f"k{i}"} for i in range(20)]})
    return [iterator for shard in ("shardId-000000000000", "shardId-000000000001") for kind in ("TRIM_HORIZON", "LATEST")
            if (iterator := kinesis_call(port, "GetShardIterator", {
                "StreamName": "fuzz-stream", "ShardId": shard, "ShardIteratorType": kind}).get("ShardIterator"))]


def warm_up(host: Host, args, handles: list[str]):
    """Brings the host to its working set before RSS is measured: ``--parallel`` concurrent 1 MB
    invokes (the largest payload the fuzzer gets accepted), 200 KB SQS messages, ``--warm-up``
    requests of each socket surface and two Runtime API batches from another seed (the allocator's arenas grow to what
    concurrent huge bodies need and stay there). Growth past that is what the 20 MB bound is about."""
    parallel = args.parallel
    body = json.dumps("x" * 1_048_000).encode()
    queue = f"http://127.0.0.1:{host.port}/{ACCOUNT}/fuzz-scratch"
    with ThreadPoolExecutor(parallel) as pool:
        for _ in range(2):
            list(pool.map(lambda _: exchange("127.0.0.1", host.port, http_request(
                "POST", "/2015-03-31/functions/Echo/invocations", [], body), 60), range(parallel)))
            list(pool.map(lambda _: sqs_call(host.port, "SendMessage", {"QueueUrl": queue, "MessageBody": "m" * 200_000}),
                          range(parallel)))
    sqs_call(host.port, "PurgeQueue", {"QueueUrl": queue})
    for surface in GENERATORS:
        run_socket_surface(host, surface, args, {"handles": handles, "iterators": shard_iterators(host.port)},
                           seed=f"warm-up-{args.seed}", count=args.warm_up)
    if args.warm_up:
        # Two Runtime API batches at once, as the runtime surface runs them.
        event = {"fuzz": {"seed": f"warm-up-{args.seed}", "start": 0, "count": 50, "timeout": args.timeout}}
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: invoke(host.port, "HostileRuntime", event, timeout=130), range(2)))
    cleanup_control(host.port)
    if not host.alive():
        raise RuntimeError(f"the host died during the warm-up:\n{host.stderr_tail()}")


def cleanup_control(port: int):
    """Undoes what the control surface may have configured (provisioned workers above all)."""
    for name in ("Target", "TargetTwo"):
        listing = exchange("127.0.0.1", port, http_request(
            "GET", f"/2019-09-30/functions/{name}/provisioned-concurrency?List=ALL", [], b""), 30)
        try:
            configs = json.loads(listing.body)["ProvisionedConcurrencyConfigs"]
        except (ValueError, KeyError, TypeError):
            configs = []
        for config in configs:
            # Everything after the function's ARN: the qualifier may itself contain colons.
            qualifier = quote(config["FunctionArn"].removeprefix(f"{FUNCTION_ARN}{name}:"))
            exchange("127.0.0.1", port, http_request(
                "DELETE", f"/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier={qualifier}", [], b""), 30)
        for method, path in (("DELETE", f"/2017-10-31/functions/{name}/concurrency"),
                             ("DELETE", f"/2019-09-25/functions/{name}/event-invoke-config")):
            exchange("127.0.0.1", port, http_request(method, path, [], b""), 30)


def run(args) -> dict:
    """Runs the surfaces against a fresh host; returns the summary (``ok`` false on any failure)."""
    binary = Path(args.fnhost or os.environ.get("FNHOST_BIN") or REPO / ".build" / "debug" / "fnhost")
    state_dir = Path(args.state_dir or tempfile.mkdtemp(prefix="fnhost-fuzz-"))
    host = Host(binary, state_dir).start()
    summary: dict = {"seed": args.seed, "requests_per_surface": args.requests, "fnhost": str(binary),
                     "state_dir": str(state_dir), "surfaces": {}}
    failures: list[dict] = []
    problems: list[str] = []
    try:
        baseline = len(descendants(host.process.pid))
        if (problem := healthy(host.port, "warm-up")) is not None:
            raise RuntimeError(problem)
        handles = receipt_handles(host.port)
        rss_before_warm_up = rss_kb(host.process.pid)
        warm_up(host, args, handles)
        rss_start = rss_kb(host.process.pid)
        rss_pid = host.process.pid
        for surface in args.surfaces:
            started = time.monotonic()
            if surface == "runtime":
                report = run_runtime_surface(host, args)
            else:
                report = run_socket_surface(host, surface, args, {"handles": handles, "iterators": shard_iterators(host.port)})
            report.seconds = time.monotonic() - started
            if not host.alive() or report.wedged:
                if report.wedged:
                    report.checks["responsive"] = "the host stopped answering; killed and restarted for the next surface"
                    host.stop()
                else:
                    report.checks["alive"] = f"the host exited with {host.process.returncode}:\n{host.stderr_tail()}"
                    report.crashes = max(report.crashes, 1)
                summary["surfaces"][surface] = report.summary()
                failures += report.failures
                host = Host(binary, state_dir / f"after-{surface}").start()
                baseline = len(descendants(host.process.pid))
                handles = receipt_handles(host.port)
                continue
            if surface == "control":
                cleanup_control(host.port)
            if (problem := settle(host, baseline, args.settle)) is not None:
                report.checks["leak"] = problem
            if (problem := healthy(host.port, f"after {surface}")) is not None:
                report.checks["healthy"] = problem
            summary["surfaces"][surface] = report.summary()
            summary["surfaces"][surface]["rss_kb_after"] = rss_kb(host.process.pid)
            failures += report.failures
        if host.alive() and host.process.pid == rss_pid:
            rss_end = rss_kb(host.process.pid)
            summary["rss_kb"] = {"before_warm_up": rss_before_warm_up, "start": rss_start, "end": rss_end, "growth": rss_end - rss_start,
                                 "limit": RSS_GROWTH_LIMIT_KB}
            if rss_end - rss_start > RSS_GROWTH_LIMIT_KB:
                problems.append(f"VmRSS grew by {rss_end - rss_start} kB (limit {RSS_GROWTH_LIMIT_KB} kB)")
    finally:
        status = host.stop()
        if status != 0:
            problems.append(f"the host exited with {status} after SIGTERM")
    for name, surface in summary["surfaces"].items():
        if surface["failures"] or surface["crashes"] or surface["checks"] or surface["fuzzer_errors"]:
            problems.append(f"{name}: {surface['failures']} failing requests, {surface['crashes']} crashes, "
                            f"checks {surface['checks']}, fuzzer errors {surface['fuzzer_errors']}")
    summary["problems"] = problems
    summary["ok"] = not problems
    if failures:
        path = Path(args.failures)
        with open(path, "w") as out:
            for failure in failures:
                out.write(json.dumps(failure) + "\n")
        summary["failures_file"] = str(path.resolve())
        summary["first_failures"] = [{k: (v[:300] if isinstance(v, str) else v) for k, v in failure.items()}
                                     for failure in failures[:5]]
    return summary


def replay(args) -> int:
    """Resends the requests of a failures file to a fresh host; prints what each got."""
    binary = Path(args.fnhost or os.environ.get("FNHOST_BIN") or REPO / ".build" / "debug" / "fnhost")
    host = Host(binary, Path(args.state_dir or tempfile.mkdtemp(prefix="fnhost-replay-"))).start()
    failed = 0
    try:
        for line in Path(args.replay).read_text().splitlines():
            record = json.loads(line)
            if "request" not in record:
                continue
            data = base64.b64decode(record["request"])
            if record.get("runtime_api"):
                # Sent from inside a worker: replay it from HostileRuntime's seed and index instead.
                outcome = invoke(host.port, "HostileRuntime", {"fuzz": {"seed": record["seed"], "start": record["index"],
                                                                       "count": 1, "timeout": args.timeout}})
                print(json.dumps({"index": record["index"], "surface": "runtime",
                                  "report": outcome.body[:2000].decode("utf-8", "replace")}))
                continue
            outcome = exchange("127.0.0.1", host.port, data, args.timeout, record.get("half_close", False),
                               record.get("head_request", False))
            reason = judge(outcome) if host.alive() else "the host died"
            failed += reason is not None
            print(json.dumps({"surface": record["surface"], "index": record["index"], "kind": outcome.kind,
                              "status": outcome.status, "failure": reason,
                              "body": outcome.body[:300].decode("utf-8", "replace")}))
    finally:
        host.stop()
    return 1 if failed else 0


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per surface (default 500)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--surfaces", nargs="+", choices=SURFACES, default=list(SURFACES))
    parser.add_argument("--timeout", type=float, default=5.0, help="bound for one request's response or close")
    parser.add_argument("--parallel", type=int, default=6, help="concurrent connections on the serve port")
    parser.add_argument("--runtime-batch", type=int, default=50, help="Runtime API requests per HostileRuntime invoke")
    parser.add_argument("--warm-up", type=int, default=300,
                        help="requests per socket surface (another seed) before RSS is measured")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds for workers to stop after a surface")
    parser.add_argument("--fnhost", help="the fnhost binary (default $FNHOST_BIN, else .build/debug/fnhost)")
    parser.add_argument("--state-dir", help="the host's state directory (default: a new temporary one)")
    parser.add_argument("--failures", default="fuzz-failures.jsonl", help="where failing requests are written")
    parser.add_argument("--replay", help="resend the requests of a failures file instead of fuzzing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.replay:
        return replay(args)
    summary = run(args)
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
