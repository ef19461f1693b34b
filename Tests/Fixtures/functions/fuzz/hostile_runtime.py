"""Fuzz-suite fixture: a hostile worker that fuzzes its own Runtime API (Tests/fuzz/fuzz.py).

Given ``{"fuzz": {"seed": S, "start": I, "count": N, "timeout": T}}`` it opens
``AWS_LAMBDA_RUNTIME_API`` and sends requests I .. I+N-1 of the runtime surface (request ``j``
comes from ``random.Random(f"{S}:runtime:{j}")``, so the fuzzer can rebuild it), each on a
connection of its own: bad paths, methods, request ids, headers, bodies, framing and
half-closed connections. It never answers its own invocation through the fuzz requests (its
request id is never used verbatim), so its return value, the report, reaches the fuzzer:

    {"sent": N, "classes": {"2xx": .., "4xx": .., "closed": .., "timeout": ..}, "parked": P,
     "errors": {"403 InvalidStateTransition": .., ...},
     "failures": [{"index": j, "kind": ..., "status": ..., "request": base64}, ...]}

A failure is a 5xx or a timeout; a ``GET .../invocation/next`` left unanswered is ``parked``
(a long poll: there is no second event for a busy worker), not a failure. Whatever this
worker does, the host may kill or replace it; the host itself must stay up.
"""

import base64
import os
import random

from rawhttp import Mutator, exchange

PREFIX = "/2018-06-01/runtime/"
NEXT = PREFIX + "invocation/next"
PARK_SECONDS = 0.3


def build(rng: random.Random, own_id: str):
    """Request ``rng`` describes: (method, raw request)."""
    m = Mutator(rng)
    ids = [own_id[:-1] + ("0" if own_id[-1:] != "0" else "1"), "", "x" * rng.choice([37, 1000, 70_000]),
           "00000000-0000-0000-0000-000000000000", "../next", "%2e%2e%2fnext", own_id + "/x", own_id.upper(),
           m.mutate_text(own_id), m.string()]
    request_id = rng.choice(ids)
    if request_id == own_id:
        request_id += "x"
    base = rng.choice([
        ("GET", NEXT, b""),
        ("POST", f"{PREFIX}invocation/{request_id}/response", b'{"result": "fuzz"}'),
        ("POST", f"{PREFIX}invocation/{request_id}/error", b'{"errorMessage": "fuzz", "errorType": "Fuzz"}'),
        ("POST", f"{PREFIX}init/error", b'{"errorMessage": "fuzz", "errorType": "Fuzz"}'),
    ])
    method, path, body = base
    if m.chance(0.25):
        method = rng.choice(["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "get", "G\x00T",
                             "POST", "GET", "M" * 5000, ""])
    if m.chance(0.3):
        path = rng.choice([m.mutate_text(path), path + "?" + m.string(), path.replace("/", "//"),
                           PREFIX + m.string(), "/" + m.string(), "*", path + "/" * 50,
                           "http://127.0.0.1" + path, path.replace("runtime", "%72untime")])
    headers = m.header_block()
    if m.chance(0.3):
        headers.append(rng.choice([
            ("Lambda-Runtime-Function-Error-Type", m.string()),
            ("Lambda-Runtime-Function-Response-Mode", rng.choice(["streaming", "buffered", m.string()])),
            ("Content-Type", m.string()),
            ("Lambda-Runtime-Function-XRay-Error-Cause", m.string()),
            ("Trailer", "Lambda-Runtime-Function-Error-Type"),
        ]))
    if body and m.chance(0.6):
        body = m.body(body)
    elif m.chance(0.05):
        body = b"x" * rng.choice([7 * 1024 * 1024, 1024 * 1024])
    raw = m.frame(method, path, headers, body)
    if m.chance(0.05):
        # Half-close right after the request line.
        raw.data, raw.half_close = raw.data.split(b"\r\n", 1)[0] + b"\r\n", True
    raw.head_request = method == "HEAD"
    return method, path, raw


def handler(event, context):
    spec = event["fuzz"]
    host, _, port = os.environ["AWS_LAMBDA_RUNTIME_API"].partition(":")
    report = {"sent": 0, "classes": {}, "errors": {}, "parked": 0, "failures": []}
    for index in range(spec["start"], spec["start"] + spec["count"]):
        method, path, raw = build(random.Random(f"{spec['seed']}:runtime:{index}"), context.aws_request_id)
        parks = method == "GET" and path.split("?")[0] == NEXT and not raw.half_close
        outcome = exchange(host, int(port), raw.data, PARK_SECONDS if parks else spec["timeout"],
                           raw.half_close, raw.head_request)
        report["sent"] += 1
        if parks and outcome.kind == "timeout":
            report["parked"] += 1
            continue
        status_class = outcome.status_class()
        report["classes"][status_class] = report["classes"].get(status_class, 0) + 1
        if outcome.kind == "answered" and outcome.status >= 400:
            key = f"{outcome.status} {outcome.error_type or '-'}"
            report["errors"][key] = report["errors"].get(key, 0) + 1
        if outcome.kind == "timeout" or (outcome.status or 0) >= 500:
            if len(report["failures"]) < 5:
                report["failures"].append({
                    "index": index, "kind": outcome.kind, "status": outcome.status,
                    "error_type": outcome.error_type, "note": raw.note,
                    "request": base64.b64encode(raw.data[:200_000]).decode()})
            report.setdefault("failure_count", 0)
            report["failure_count"] += 1
    return report
