"""`fnhost load` against real hosts: exact counts, throttles, open-loop rate, coordinated omission,
--template mode, the JSON document, --fail-on exit statuses, Ctrl-C, and the HTML report.

One host serves Tests/Fixtures/load/template.yaml for the module (CNoop, ReservedOne, Instructed,
StallOnce); tests that count with the host's own /metrics take the difference around their run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import FNHOST_BIN, REPO, start_host, wait_for

LOAD_TEMPLATE = REPO / "Tests" / "Fixtures" / "load" / "template.yaml"

SUMMARY_KEYS = {
    "function": str, "endpoint": str, "mode": str, "requests": int, "completed": int, "errors": int,
    "throttles": int, "transport_errors": int, "cold_starts": (int, type(None)), "duration_s": (int, float),
    "throughput_rps": (int, float), "latency_ms": dict, "init_duration_ms": dict, "error_samples": list,
}
LATENCY_KEYS = ["min", "p50", "p90", "p99", "p999", "max", "mean", "stdev"]


@pytest.fixture(scope="module")
def load_host(tmp_path_factory):
    host = start_host(LOAD_TEMPLATE, tmp_path_factory.mktemp("load-host"))
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def load_environment() -> dict:
    """The test's environment without AWS credentials, so requests go unsigned (a host ignores signatures anyway)."""
    environment = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_CONFIG_FILE="/dev/null")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        environment.pop(key, None)
    return environment


def run_load(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs ``fnhost load ARGS`` to completion (no terminal: no live view)."""
    return subprocess.run([str(FNHOST_BIN), "load", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=str(REPO), env=env or load_environment(), stdin=subprocess.DEVNULL)


def load_json(*args: str, **kwargs) -> dict:
    done = run_load(*args, "--json", **kwargs)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"--json must print exactly one line on stdout, got {done.stdout!r}"
    return json.loads(lines[0])


def check_schema(summary: dict):
    for key, kind in SUMMARY_KEYS.items():
        assert key in summary, f"missing {key}"
        assert isinstance(summary[key], kind), f"{key}: {summary[key]!r} is not {kind}"
    assert summary["mode"] in ("concurrency", "rate")
    assert list(summary["latency_ms"]) == LATENCY_KEYS
    assert list(summary["init_duration_ms"]) == ["p50", "p99", "max"]
    for value in list(summary["latency_ms"].values()) + list(summary["init_duration_ms"].values()):
        assert value is None or isinstance(value, (int, float))
    assert all(isinstance(sample, str) for sample in summary["error_samples"])
    assert summary["completed"] + summary["errors"] + summary["throttles"] + summary["transport_errors"] \
        == summary["requests"]


def metric(host, name: str, function: str) -> float:
    """The host's counter ``name`` for ``function`` from GET /metrics."""
    import urllib.request

    with urllib.request.urlopen(f"{host.endpoint}/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and f'"{function}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_counts_are_exact_and_match_the_host(load_host):
    before = metric(load_host, "fnhost_invocations_total", "CNoop")
    summary = load_json("CNoop", "--endpoint", load_host.endpoint, "--concurrency", "8", "--requests", "600",
                        "--warmup", "50")
    check_schema(summary)
    assert summary["function"] == "CNoop" and summary["endpoint"] == load_host.endpoint
    assert summary["mode"] == "concurrency"
    assert summary["requests"] == 600 and summary["completed"] == 600
    assert summary["errors"] == summary["throttles"] == summary["transport_errors"] == 0
    assert summary["error_samples"] == []
    # The host ran exactly the warm-up plus the measured requests (the DryRun pre-flight runs nothing).
    after = wait_for(lambda: metric(load_host, "fnhost_invocations_total", "CNoop") - before >= 650 and
                     metric(load_host, "fnhost_invocations_total", "CNoop"), 10, what="the host's invocation count")
    assert after - before == 650
    latency = summary["latency_ms"]
    assert 0 < latency["min"] <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p999"] <= latency["max"]
    assert summary["throughput_rps"] > 0 and summary["duration_s"] > 0


def test_throttles_are_counted_apart_against_reserved_concurrency(load_host, tmp_path):
    event = tmp_path / "sleep.json"
    event.write_text('{"sleep": 0.2}')
    before = metric(load_host, "fnhost_throttles_total", "ReservedOne")
    summary = load_json("ReservedOne", "--endpoint", load_host.endpoint, "--concurrency", "4", "--requests", "40",
                        "--event", str(event))
    check_schema(summary)
    assert summary["requests"] == 40
    assert summary["throttles"] > 0, summary
    assert summary["completed"] > 0
    assert summary["errors"] == summary["transport_errors"] == 0
    assert any(s.startswith("throttle: TooManyRequestsException") for s in summary["error_samples"]), summary
    assert metric(load_host, "fnhost_throttles_total", "ReservedOne") - before == summary["throttles"]


def test_function_errors_and_cycled_events(load_host, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text('{"echo": 1}\n{"error": "planned failure"}\n\n{"echo": 3}\n')
    summary = load_json("Instructed", "--endpoint", load_host.endpoint, "--concurrency", "1", "--requests", "90",
                        "--events", str(events))
    # Three events cycled over 90 sequential requests: every third one fails.
    assert summary["errors"] == 30 and summary["completed"] == 60
    assert any("planned failure" in s and s.startswith("error: Unhandled") for s in summary["error_samples"]), summary
    assert len([s for s in summary["error_samples"] if s.startswith("error: ")]) == 5


def test_rate_mode_keeps_its_rate(load_host):
    summary = load_json("CNoop", "--endpoint", load_host.endpoint, "--rate", "100", "--duration", "5s", "--warmup", "100")
    check_schema(summary)
    assert summary["mode"] == "rate" and summary["target"] == 100
    # Arrivals at 0, 10 ms, ... 4.99 s: exactly 500, and the achieved rate within 5 %.
    assert summary["requests"] == 500, summary["requests"]
    assert abs(summary["throughput_rps"] - 100) / 100 < 0.05, (summary["throughput_rps"], summary["warnings"])


def test_rate_mode_shows_a_stall_in_its_p99_no_coordinated_omission(load_host):
    # One connection, 50 arrivals a second; the 20th invocation stalls 2 s. The ~100 arrivals
    # scheduled during the stall wait behind it, and each is timed from its intended start.
    summary = load_json("StallOnce", "--endpoint", load_host.endpoint, "--rate", "50", "--duration", "6s",
                        "--connections", "1")
    assert summary["completed"] == summary["requests"] == 300
    assert summary["latency_ms"]["max"] >= 1900, summary["latency_ms"]
    assert summary["latency_ms"]["p99"] >= 1000, summary["latency_ms"]
    assert summary["latency_ms"]["p90"] >= 100, summary["latency_ms"]
    assert any("waited for one of the 1 connections" in w for w in summary["warnings"]), summary["warnings"]


def test_template_mode_starts_and_stops_its_own_host(tmp_path):
    summary = load_json("CNoop", "--template", str(LOAD_TEMPLATE), "--concurrency", "3", "--requests", "300",
                        "--state-dir", str(tmp_path / "state"))
    check_schema(summary)
    assert summary["completed"] == 300
    assert summary["endpoint"].startswith("http://127.0.0.1:")
    # A fresh host: the first requests started workers, and the tailed REPORT lines said so.
    assert 1 <= summary["cold_starts"] <= 3
    assert summary["init_duration_ms"]["p50"] > 0
    # Function logs went to the state directory, not into the JSON on stdout.
    assert (tmp_path / "state" / "logs" / "CNoop.log").read_text().count("REPORT RequestId") >= 300


def test_template_mode_takes_sams_override_flags(tmp_path):
    # --env-vars and --parameter-overrides reach the host it starts, as with serve and invoke.
    missing = run_load("CNoop", "--template", str(LOAD_TEMPLATE), "--requests", "5", "--env-vars",
                       str(tmp_path / "missing.json"), "--state-dir", str(tmp_path / "state"))
    assert missing.returncode == 2 and "missing.json" in missing.stderr, missing.stderr
    env = tmp_path / "env.json"
    env.write_text('{"Parameters": {"ANY": "value"}}')
    summary = load_json("CNoop", "--template", str(LOAD_TEMPLATE), "--requests", "20", "--env-vars", str(env),
                        "--parameter-overrides", "Unused=1", "--state-dir", str(tmp_path / "state"))
    assert summary["completed"] == 20


def test_event_invocations_are_accepted(load_host):
    summary = load_json("CNoop", "--endpoint", load_host.endpoint, "--invocation-type", "Event",
                        "--concurrency", "2", "--requests", "50")
    assert summary["completed"] == 50


def test_fail_on_exit_statuses(load_host, tmp_path):
    common = ["--endpoint", load_host.endpoint, "--concurrency", "2", "--requests", "50"]
    assert run_load("CNoop", *common, "--fail-on", "p99<10s,errors<1%,throttles<1").returncode == 0
    broken = run_load("CNoop", *common, "--fail-on", "p50<0.001ms")
    assert broken.returncode == 1
    assert "p50<0.001ms" in broken.stderr
    failing = tmp_path / "fail.json"
    failing.write_text('{"error": "nope"}')
    errors = run_load("Instructed", *common, "--event", str(failing), "--fail-on", "errors<1%")
    assert errors.returncode == 1 and "errors<1%" in errors.stderr
    usage = run_load("CNoop", *common, "--fail-on", "p99 about 200ms")
    assert usage.returncode == 2
    missing = run_load("NoSuchFunction", *common)
    assert missing.returncode == 2
    assert "ResourceNotFoundException" in missing.stderr and "NoSuchFunction" in missing.stderr
    unreachable = run_load("CNoop", "--endpoint", "http://127.0.0.1:1", "--requests", "5")
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr


def test_ctrl_c_stops_sending_waits_and_still_prints_the_summary(load_host, tmp_path):
    event = tmp_path / "sleep.json"
    event.write_text('{"sleep": 0.5}')
    environment = load_environment()
    before = metric(load_host, "fnhost_invocations_total", "Instructed")
    process = subprocess.Popen(
        [str(FNHOST_BIN), "load", "Instructed", "--endpoint", load_host.endpoint, "--concurrency", "3",
         "--duration", "60s", "--event", str(event), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO), env=environment)
    try:
        wait_for(lambda: metric(load_host, "fnhost_invocations_total", "Instructed") - before >= 6, 30,
                 what="the run to get going")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    summary = json.loads(stdout)
    check_schema(summary)
    assert summary["interrupted"] is True
    assert summary["duration_s"] < 30
    # Requests in flight at the Ctrl-C were waited for: they completed, none was cut off.
    assert summary["transport_errors"] == 0 and summary["completed"] == summary["requests"] >= 6
    assert "waiting for requests in flight" in stderr


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.open: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag not in ("meta", "br", "line", "polyline", "path", "rect", "circle"):
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_with_svg_charts_and_renders(load_host, tmp_path):
    baseline = load_json("CNoop", "--endpoint", load_host.endpoint, "--rate", "100", "--duration", "3s")
    (tmp_path / "old.json").write_text(json.dumps(baseline))
    report = tmp_path / "report.html"
    events = tmp_path / "events.jsonl"
    events.write_text('{"echo": 1}\n{"error": "one in four fails"}\n{}\n{}\n')
    summary = load_json("Instructed", "--endpoint", load_host.endpoint, "--rate", "30", "--duration", "4s", "--warmup", "20",
                        "--events", str(events), "--report", str(report), "--compare", str(tmp_path / "old.json"))
    assert summary["errors"] == summary["requests"] // 4, summary["error_samples"]
    html = report.read_text()
    page = _Page()
    page.feed(html)
    page.close()
    assert page.open == [], f"unclosed tags: {page.open}"
    assert page.tags[0] == "html" and "head" in page.tags and "body" in page.tags
    assert page.tags.count("svg") == 5 and page.tags.count("polyline") >= 5
    assert "table" in page.tags
    # Self-contained: no script, no external resource of any kind.
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert not any(name in ("src", "href") for name, _ in page.attributes if name != "xmlns")
    text = " ".join(page.text)
    for title in ("Latency percentile distribution", "Latency over time", "Throughput over time",
                  "In-flight concurrency and cold starts", "Throttles and errors over time"):
        assert title in text
    assert "baseline" in text and "ms" in text and "requests/s" in text

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/install-system-deps installs it): no screenshot")
    screenshot = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={screenshot}", "--window-size=900,2000", report.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert screenshot.is_file(), "chromium wrote no screenshot"
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (900, 2000)
    # A page that rendered is far from one flat colour: it compresses much worse than a blank one.
    assert len(png) > 40_000, len(png)
    keep = os.environ.get("FNHOST_LOAD_SCREENSHOT")
    if keep:
        shutil.copy(screenshot, keep)


def test_requests_are_sigv4_signed_as_botocore_signs_them(tmp_path):
    """With AWS credentials in the environment every request carries a SigV4 signature that
    botocore's own signer computes identically (a small recording server stands in for AWS)."""
    import http.server
    import threading

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    seen = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, dict(self.headers.items()), body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        environment = load_environment()
        environment.update(AWS_ACCESS_KEY_ID="AKIDLOADTEST", AWS_SECRET_ACCESS_KEY="load-test-secret",
                           AWS_SESSION_TOKEN="load-test-token", AWS_REGION="eu-central-1")
        event = tmp_path / "event.json"
        event.write_text('{"signed": true}')
        done = run_load("arn:aws:lambda:eu-central-1:123456789012:function:Signed", "--endpoint",
                        f"http://127.0.0.1:{server.server_address[1]}", "--requests", "3", "--concurrency", "1",
                        "--event", str(event), "--json", env=environment)
        assert done.returncode == 0, done.stderr
        assert "load-test-secret" not in done.stdout + done.stderr
    finally:
        server.shutdown()
    assert len(seen) == 4  # the DryRun pre-flight and three invocations
    credentials = Credentials("AKIDLOADTEST", "load-test-secret", "load-test-token")
    for path, headers, body in seen:
        authorization = headers["Authorization"]
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDLOADTEST/")
        assert "/eu-central-1/lambda/aws4_request" in authorization
        signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
        lower = {name.lower(): value for name, value in headers.items()}
        request = AWSRequest(method="POST", url=f"http://{lower['host']}{path}", data=body,
                             headers={name: lower[name] for name in signed if name != "host"})
        request.context["timestamp"] = lower["x-amz-date"]
        signer = SigV4Auth(credentials, "lambda", "eu-central-1")
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        assert authorization.endswith("Signature=" + expected), (canonical, authorization)


def test_a_second_ctrl_c_abandons_what_is_in_flight(load_host, tmp_path):
    event = tmp_path / "sleep.json"
    event.write_text('{"sleep": 3}')
    stderr_path = tmp_path / "load.stderr"
    before = metric(load_host, "fnhost_invocations_total", "Instructed")
    with open(stderr_path, "w") as stderr_file:
        process = subprocess.Popen(
            [str(FNHOST_BIN), "load", "Instructed", "--endpoint", load_host.endpoint, "--concurrency", "2",
             "--duration", "60s", "--event", str(event), "--json"],
            stdout=subprocess.PIPE, stderr=stderr_file, text=True, cwd=str(REPO), env=load_environment())
    try:
        wait_for(lambda: metric(load_host, "fnhost_invocations_total", "Instructed") - before >= 1, 30,
                 what="the first invocations")
        process.send_signal(signal.SIGINT)
        # Signals sent back to back merge into one in the kernel: wait until the first was seen.
        wait_for(lambda: "waiting for requests in flight" in stderr_path.read_text(), 10, what="the first Ctrl-C")
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = stderr_path.read_text()
    assert process.returncode == 0, stderr
    summary = json.loads(stdout)
    check_schema(summary)
    assert summary["interrupted"] is True
    # Two clients, each with a 3 s invocation in flight at the second Ctrl-C: both given up.
    assert summary["transport_errors"] >= 1, summary
    assert "transport: abandoned on interrupt" in summary["error_samples"]
    assert "abandoning requests in flight" in stderr
