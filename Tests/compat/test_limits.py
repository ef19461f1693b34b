"""Memory limits (cgroups and RSS polling), provisioned concurrency, idle eviction and /metrics,
with real processes through boto3."""

import http.client
import json
import os
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, descendants, invoke_json, lambda_client, pid_alive, start_host, wait_for
from test_concurrency import LIMITS_TEMPLATE, kinds, simultaneous

SLOW_INIT_TEMPLATE = REPO / "Tests" / "Fixtures" / "limits" / "slow-init.yaml"

REPORT_RE = re.compile(r"REPORT RequestId: (\S+)\t.*?Max Memory Used: (\d+) MB(.*)")


def reports(host, logical_id):
    return [m for m in REPORT_RE.finditer(host.log_text(logical_id))]


def own_memory_cgroup() -> Path | None:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/")
    return None


def cgroup_v1_writable() -> bool:
    base = own_memory_cgroup()
    return base is not None and os.access(base, os.W_OK) and (base / "memory.limit_in_bytes").exists()


@pytest.fixture(scope="module", params=["auto", "rss"])
def memory_host(request, tmp_path_factory):
    if request.param == "auto" and not cgroup_v1_writable() and not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        pytest.skip("no writable cgroup memory controller on this machine")
    extra = () if request.param == "auto" else ("--memory-enforcement", "rss")
    host = start_host(LIMITS_TEMPLATE, tmp_path_factory.mktemp(f"memory-{request.param}"), *extra)
    host.mode = request.param
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]
        if request.param == "auto" and cgroup_v1_writable():
            leftover = list(own_memory_cgroup().glob(f"fnhost-{host.process.pid}-*"))
            assert not leftover, f"{leftover} was left behind"


def test_only_rss_polling_warns_at_start_up(memory_host):
    warnings = [line for line in memory_host.stderr().splitlines() if "MemorySize is enforced by polling" in line]
    assert len(warnings) == (1 if memory_host.mode == "rss" else 0), memory_host.stderr()


def test_max_memory_used_reflects_what_the_function_allocated(memory_host):
    client = lambda_client(memory_host.endpoint)
    response, _ = invoke_json(client, "Hungry", {"allocate_mb": 64, "pid": True})
    assert "FunctionError" not in response
    request_id = response["ResponseMetadata"]["RequestId"]
    report = wait_for(lambda: next((m for m in reports(memory_host, "Hungry") if m.group(1) == request_id), None), 5,
                      what="the REPORT line")
    assert 64 <= int(report.group(2)) <= 128, report.group(0)
    # The same worker, 32 MB more: the peak is read afresh after every invocation.
    again, _ = invoke_json(client, "Hungry", {"allocate_mb": 32})
    second_id = again["ResponseMetadata"]["RequestId"]
    second = wait_for(lambda: next((m for m in reports(memory_host, "Hungry") if m.group(1) == second_id), None), 5,
                      what="the second REPORT line")
    assert int(second.group(2)) >= int(report.group(2)) + 30, (report.group(0), second.group(0))


def test_allocating_past_memory_size_is_killed_reported_and_replaced(memory_host):
    client = lambda_client(memory_host.endpoint)
    _, before = invoke_json(client, "Hungry", {"pid": True})
    response, body = invoke_json(client, "Hungry", {"allocate_mb": 400})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory", body
    request_id = response["ResponseMetadata"]["RequestId"]
    assert body["errorMessage"] == f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
    report = wait_for(lambda: next((m for m in reports(memory_host, "Hungry") if m.group(1) == request_id), None), 5,
                      what="the REPORT line of the killed invoke")
    assert "Status: error\tError Type: Runtime.OutOfMemory" in report.group(3), report.group(0)
    assert not pid_alive(before["pid"]) or before["pid"] not in descendants(memory_host.process.pid)
    response, after = invoke_json(client, "Hungry", {"pid": True})
    assert "FunctionError" not in response and after["pid"] != before["pid"]


def metrics_text(host) -> str:
    with urllib.request.urlopen(f"{host.endpoint}/metrics", timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        return answer.read().decode()


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
        assert match, f"not Prometheus text: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def test_provisioned_workers_run_before_the_first_invoke(tmp_path):
    host = start_host(LIMITS_TEMPLATE, tmp_path)
    try:
        # Ready means initialised: two provisioned runtimes are already waiting for events.
        log = host.log_text("Provisioned")
        assert "START RequestId" not in log
        workers = [p for p in descendants(host.process.pid)
                   if "provisioned-concurrency" in Path(f"/proc/{p}/environ").read_bytes().decode(errors="replace")]
        launchers_and_runtimes = len(workers)
        assert launchers_and_runtimes >= 2, workers
        client = lambda_client(host.endpoint)
        config = client.get_provisioned_concurrency_config(FunctionName="Provisioned", Qualifier="live")
        assert config["Status"] == "READY"
        assert config["AllocatedProvisionedConcurrentExecutions"] == 2
        assert config["RequestedProvisionedConcurrentExecutions"] == 2

        response, body = invoke_json(client, "Provisioned", {"pid": True}, LogType="Tail")
        assert body["initialization_type"] == "provisioned-concurrency"
        import base64
        tail = base64.b64decode(response["LogResult"]).decode()
        assert "REPORT RequestId" in tail and "Init Duration" not in tail, tail

        # Traffic above the provisioned workers spills over to on-demand workers.
        results = []

        def run():
            results.append(invoke_json(client, "Provisioned", {"sleep": 1, "pid": True})[1])

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        kinds = sorted(r["initialization_type"] for r in results)
        assert kinds == ["on-demand", "provisioned-concurrency", "provisioned-concurrency"], results

        metrics = parse_metrics(metrics_text(host))
        assert sample(metrics, "fnhost_cold_starts_total", function_name="Provisioned") == 1

        # Put/Get at run time: more provisioned workers start in the background.
        put = client.put_provisioned_concurrency_config(
            FunctionName="Provisioned", Qualifier="live", ProvisionedConcurrentExecutions=3)
        assert put["RequestedProvisionedConcurrentExecutions"] == 3
        wait_for(lambda: client.get_provisioned_concurrency_config(
            FunctionName="Provisioned", Qualifier="live")["Status"] == "READY", 15, what="3 provisioned workers")
        with pytest.raises(client.exceptions.ProvisionedConcurrencyConfigNotFoundException):
            client.get_provisioned_concurrency_config(FunctionName="Adjustable", Qualifier="live")
        with pytest.raises(client.exceptions.InvalidParameterValueException):
            client.put_provisioned_concurrency_config(
                FunctionName="Provisioned", Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
        # Only the function's alias can be named: any other qualifier is a function that does not exist.
        with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
            client.put_provisioned_concurrency_config(
                FunctionName="Provisioned", Qualifier="prod", ProvisionedConcurrentExecutions=1)
        assert "function:Provisioned:prod" in str(missing.value)
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_provisioned_concurrency_config(FunctionName="Provisioned", Qualifier="7")
        assert client.get_provisioned_concurrency_config(
            FunctionName="Provisioned", Qualifier="live")["RequestedProvisionedConcurrentExecutions"] == 3
        # The alias is invocable too.
        assert client.invoke(FunctionName="Provisioned:live", Payload=b"{}")["StatusCode"] == 200
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.invoke(FunctionName="Provisioned", Qualifier="prod", Payload=b"{}")
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_idle_workers_are_evicted_but_provisioned_ones_stay(tmp_path):
    host = start_host(LIMITS_TEMPLATE, tmp_path, "--idle-timeout", "0.5")
    try:
        client = lambda_client(host.endpoint)
        _, body = invoke_json(client, "Adjustable", {"pid": True})
        pid = body["pid"]
        provisioned = [invoke_json(client, "Provisioned", {"pid": True})[1]["pid"]]
        wait_for(lambda: not pid_alive(pid), 5, what="the idle on-demand worker to be evicted")
        assert all(pid_alive(p) for p in provisioned)
        # The next invoke is a cold start in a new worker.
        _, again = invoke_json(client, "Adjustable", {"pid": True})
        assert again["pid"] != pid
        metrics = parse_metrics(metrics_text(host))
        assert sample(metrics, "fnhost_cold_starts_total", function_name="Adjustable") == 2
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_metrics_endpoint(tmp_path):
    host = start_host(LIMITS_TEMPLATE, tmp_path)
    try:
        client = lambda_client(host.endpoint)
        for _ in range(3):
            invoke_json(client, "Adjustable", {})
        invoke_json(client, "Adjustable", {"error": "boom"})
        with pytest.raises(client.exceptions.TooManyRequestsException):
            client.invoke(FunctionName="ReservedZero", Payload=b"{}")
        busy = threading.Thread(target=lambda: invoke_json(client, "ReservedTwo", {"sleep": 1.5}))
        busy.start()

        def in_flight():
            m = parse_metrics(metrics_text(host))
            # Counted in at admission; the worker is busy once it has started.
            running = sample(m, "fnhost_workers", function_name="ReservedTwo", state="busy") == 1
            return m if running else None

        during = wait_for(in_flight, 5, what="one execution of ReservedTwo in flight")
        assert sample(during, "fnhost_concurrent_executions", function_name="ReservedTwo") == 1
        assert sample(during, "fnhost_account_concurrent_executions") == 1
        busy.join(timeout=10)

        text = metrics_text(host)
        metrics = parse_metrics(text)
        assert "# TYPE fnhost_invocations_total counter" in text
        assert "# TYPE fnhost_invocation_duration_seconds histogram" in text
        assert sample(metrics, "fnhost_invocations_total", function_name="Adjustable") == 4
        assert sample(metrics, "fnhost_errors_total", function_name="Adjustable") == 1
        assert sample(metrics, "fnhost_throttles_total", function_name="ReservedZero") == 1
        assert sample(metrics, "fnhost_cold_starts_total", function_name="Adjustable") == 1
        assert sample(metrics, "fnhost_invocation_duration_seconds_count", function_name="Adjustable") == 4
        assert sample(metrics, "fnhost_init_duration_seconds_count", function_name="Adjustable") == 1
        assert sample(metrics, "fnhost_workers", function_name="Adjustable", state="warm") == 1
        assert sample(metrics, "fnhost_workers", function_name="ReservedTwo", state="busy") == 0
        assert sample(metrics, "fnhost_concurrent_executions", function_name="ReservedTwo") == 0
        assert sample(metrics, "fnhost_account_concurrent_executions") == 0
        # Bounded dimensions: no label carries a request id.
        assert not re.search(r'[0-9a-f]{8}-[0-9a-f]{4}-', text)
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_doctor_prints_what_the_machine_supports():
    import subprocess

    from conftest import FNHOST_BIN
    result = subprocess.run([str(FNHOST_BIN), "doctor"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    for feature in ("cgroup v2 memory", "cgroup v1 memory", "cgroup v1 cpu", "namespaces", "seccomp", "pidfd"):
        assert re.search(rf"^(yes|no ) +{feature} ", result.stdout, re.M), result.stdout
    assert re.search(r"^in force: memory: (cgroup v2|cgroup v1|RSS polling)", result.stdout, re.M), result.stdout
    # Probing leaves no cgroup behind.
    base = own_memory_cgroup()
    if base is not None and base.exists():
        assert not [p for p in base.iterdir()
                    if p.name.startswith("fnhost-") and not pid_alive(int(p.name.split("-")[1]))]


def test_a_worker_that_exits_while_idle_leaves_the_warm_gauge(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  ExitsWhenIdle:
    Type: AWS::Serverless::Function
    Properties: {{CodeUri: {REPO / "Tests" / "Fixtures" / "compat" / "exit-when-idle"}, Handler: unused, Runtime: provided.al2023}}
""")
    host = start_host(template, tmp_path / "host")
    try:
        client = lambda_client(host.endpoint)
        response = client.invoke(FunctionName="ExitsWhenIdle", Payload=b"{}")
        assert json.loads(response["Payload"].read()) == {"answered": True}
        # Its runtime exits right after answering: the idle worker is gone, and the gauge says so.
        wait_for(lambda: sample(parse_metrics(metrics_text(host)), "fnhost_workers", function_name="ExitsWhenIdle",
                                state="warm") == 0, 5, what="the warm gauge to drop the exited worker")
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_provisioned_workers_that_cannot_start_are_retried_then_reported_failed(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  NeverStarts:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {REPO / "Tests" / "Fixtures" / "compat" / "exit3"}
      Handler: unused
      Runtime: provided.al2023
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig: {{ProvisionedConcurrentExecutions: 1}}
""")
    host = start_host(template, tmp_path / "host")
    try:
        config = lambda_client(host.endpoint).get_provisioned_concurrency_config(
            FunctionName="NeverStarts", Qualifier="live")
        assert config["Status"] == "FAILED", config
        assert config["AllocatedProvisionedConcurrentExecutions"] == 0
        assert "Runtime.ExitError" in config["StatusReason"], config
        # Three tries (1 s, then 2 s apart) before giving up: the bootstrap started three times.
        assert host.log_text("NeverStarts").count("exit3 bootstrap starting") == 3, host.log_text("NeverStarts")
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def three_at_once(host, name):
    """Three simultaneous invokes of `name`, all answered: how many workers served them (distinct
    pids) and how many `Init Duration`s the function's log holds."""
    outcomes = simultaneous(lambda_client(host.endpoint), [(name, {"pid": True})] * 3)
    assert kinds(outcomes) == ["ok"] * 3, outcomes
    return len({body["pid"] for _, body in outcomes}), host.log_text(name).count("Init Duration")


def test_a_burst_beyond_the_start_limit_takes_the_first_worker_free_then_gets_its_environments(tmp_path):
    """With one start at a time, three simultaneous invokes of a function whose init takes 0.1 s:
    the first starts a worker, the second gets the start once that init ends, and the third is
    served by the first worker as soon as its (instant) invocation ends, before the second init
    would: three answers from two workers, two Init Durations (each invoke starting its own gives
    three). Then the third environment the burst would have had on Lambda is started in the
    background and initialised ahead of any invocation: three warm workers, three cold starts."""
    host = start_host(SLOW_INIT_TEMPLATE, tmp_path, "--max-starting", "1")
    try:
        assert three_at_once(host, "QuickInit") == (2, 2)

        def three_warm():
            metrics = parse_metrics(metrics_text(host))
            return (sample(metrics, "fnhost_workers", function_name="QuickInit", state="warm") == 3
                    and sample(metrics, "fnhost_cold_starts_total", function_name="QuickInit") == 3)
        wait_for(three_warm, timeout=20, what="the burst's third environment, prewarmed")
        assert host.log_text("QuickInit").count("Init Duration") == 2, host.log_text("QuickInit")
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_a_start_that_takes_longer_than_its_place_allows_lets_the_next_one_begin(tmp_path):
    """One start at a time, but a start holds its place for at most 250 ms: three simultaneous
    invokes of a function whose init takes 1 s each get a worker of their own, started about
    250 ms apart (were the place held for the whole init, the second would start only after 1 s
    and the third be served by the first worker), so a function whose init hangs does not hold
    a burst back for its whole init timeout."""
    host = start_host(SLOW_INIT_TEMPLATE, tmp_path, "--max-starting", "1")
    try:
        assert three_at_once(host, "SlowInit") == (3, 3)
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_invocations_in_line_are_answered_when_the_host_stops(tmp_path):
    """Twelve simultaneous invokes of a function whose init takes 1 s, one start at a time (each
    holding its place 250 ms): once three starts are under way the rest wait in line. SIGTERM
    then answers every one of them (`503 ServiceException`, or the function error of a worker the
    stopping host ended) and the host exits cleanly: nobody is left waiting on a dead host."""
    host = start_host(SLOW_INIT_TEMPLATE, tmp_path, "--max-starting", "1")
    answers = [None] * 12

    def invoke(index):
        connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=30)
        try:
            connection.request("POST", "/2015-03-31/functions/SlowInit/invocations", body=b"{}")
            response = connection.getresponse()
            answers[index] = (response.status, json.loads(response.read() or b"{}"))
        except Exception as error:  # noqa: BLE001 - asserted below
            answers[index] = ("no answer", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=invoke, args=(index,)) for index in range(12)]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: (sample(parse_metrics(metrics_text(host)), "fnhost_cold_starts_total", function_name="SlowInit") or 0) >= 3,
                 timeout=10, what="three starts under way")
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]
        for thread in threads:
            thread.join(timeout=20)
        assert all(answer is not None and answer[0] != "no answer" for answer in answers), answers
        refused = [body for status, body in answers if status == 503]
        assert refused and all(body.get("Type") == "Service" for body in refused), answers
    finally:
        host.kill_hard()


def cpu_share_file(pid: int) -> Path:
    """The cpu controller's share file of `pid`'s cgroup: cgroup v1 `cpu.shares` where a v1
    hierarchy has the cpu controller, else v2 `cpu.weight`."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return Path("/sys/fs/cgroup") / controllers / path.lstrip("/") / "cpu.shares"
    path = Path(f"/proc/{pid}/cgroup").read_text().splitlines()[-1].split(":", 2)[2]
    return Path("/sys/fs/cgroup") / path.lstrip("/") / "cpu.weight"


def test_a_worker_initialises_with_a_whole_cpus_share_and_gets_its_memorys_share_after(tmp_path):
    """Lambda runs init with burst CPU and the function with CPU in proportion to its memory. A
    128 MB function whose init takes 1 s: while it initialises its worker's cgroup has a whole
    CPU's share (v1 `cpu.shares` 1024, v2 `cpu.weight` 100); once its first invoke is answered,
    128/1769 of one (74, or 7). Were the share proportional from the start, the host's own work
    (the next standby, the next /tmp volume) would take the CPU from every cold start. A standby
    launcher waits at the memory's share: preparing it is background work."""
    host = start_host(SLOW_INIT_TEMPLATE, tmp_path)
    answer = {}

    def launchers(child_comm):
        """Launchers whose child's name starts with `child_comm` (a standby's child is a copy of it)."""
        found = []
        for pid in descendants(host.process.pid):
            try:
                if not Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"fnhost-launch"):
                    continue
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                if any(Path(f"/proc/{child}/comm").read_text().startswith(child_comm) for child in children):
                    found.append(pid)
            except OSError:
                continue
        return found
    invoke = threading.Thread(target=lambda: answer.update(
        result=invoke_json(lambda_client(host.endpoint), "SlowInit", {"pid": True})))
    try:
        standbys = wait_for(lambda: launchers("fnhost-launch"), timeout=10, what="standby launchers")
        settled = "74" if cpu_share_file(standbys[0]).name == "cpu.shares" else "7"
        assert [cpu_share_file(pid).read_text().strip() for pid in standbys] == [settled] * len(standbys)
        invoke.start()
        # The worker's launcher is the one whose child is the function (python).
        (launcher,) = wait_for(lambda: launchers("python"), timeout=10, what="a worker initialising")
        share = cpu_share_file(launcher)
        assert share.read_text().strip() == ("1024" if share.name == "cpu.shares" else "100"), share
        invoke.join(timeout=30)
        response = answer["result"][0]
        assert response["StatusCode"] == 200 and "FunctionError" not in response, answer
        assert share.read_text().strip() == settled, share
    finally:
        invoke.join(timeout=30)
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]
