"""The figures of bench/run beyond warm latency, throughput and the C cold start: durable async
enqueue, the managed runtimes' cold starts, a burst of simultaneous invokes, and shutdown. Each
function starts its own host(s) on 127.0.0.1 port 0, stops them, and returns one JSON-ready dict
with its reference from the same run. Called by fnhost_bench.main (see bench/README.md).
"""

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

from fnhost_bench import HERE, BenchFailure, Server, log, percentile, run_client, run_load, summarize

TEMPLATE = os.path.join(HERE, "template.yaml")


def _quantiles(values, digits=2):
    return {k: v for k, v in summarize(values, 1.0, digits).items() if k != "p99.9"}


def _start_host(fnhost, workdir, label, template=TEMPLATE):
    state = os.path.join(workdir, label)
    os.makedirs(state)
    argv = [fnhost, "serve", "--template", template, "--port", "0", "--state-dir", state]
    return Server(f"fnhost-{label}", argv, "fnhost listening on", workdir), state


def single_commit_rate(directory, seconds=2.0):
    """Rows/s of one writer committing one row per transaction, WAL and synchronous=FULL as the
    host's store, on the same filesystem: what every enqueue would cost without group commit."""
    path = os.path.join(directory, "single-commit.sqlite")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE event(id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        count, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO event(payload) VALUES (?)", (b"{}",))
            connection.execute("COMMIT")
            count += 1
        return round(count / (time.monotonic() - started), 1)
    finally:
        connection.close()


def async_enqueue(fnhost, workdir, duration, concurrency):
    """`fnhost load CNoop --invocation-type Event`: every 202 is a committed row. Twice, each on a
    fresh host: with the function's events held back (reserved concurrency 0, set through the API:
    the events are not run, the dispatcher gives them up as `ZeroReservedConcurrency`), which is the
    enqueue alone, and with the host running the events meanwhile."""
    figures = {}
    for label, held in (("async-enqueue-held", True), ("async-enqueue", False)):
        server, state = _start_host(fnhost, workdir, label)
        try:
            if held:
                _put_json(server.port, "/2017-10-31/functions/CNoop/concurrency", {"ReservedConcurrentExecutions": 0})
            log(f"async enqueue: {concurrency} clients, Event invokes for {duration:g} s, "
                + ("events held back (reserved concurrency 0)" if held else "events run meanwhile"))
            figures[held] = run_load(fnhost, server.port, "CNoop", "Event", concurrency, duration, warmup=1000)
        finally:
            server.stop()
    reference = single_commit_rate(state)
    return {
        "client": f"fnhost load CNoop --invocation-type Event, {concurrency} closed-loop keep-alive clients, "
                  f"{duration:g} s after 1000 warm-up requests",
        "fnhost": figures[False],
        "fnhost_events_held": figures[True],
        "reference_single_commit_per_s": reference,
        "ratio_over_single_commit": round(figures[False]["rps"] / reference, 2) if reference else None,
        "ratio_held_over_single_commit": round(figures[True]["rps"] / reference, 2) if reference else None,
        "definition": "each 202 follows the commit of its row (WAL, synchronous=FULL); `fnhost`: the host runs the "
                      "events meanwhile; `fnhost_events_held`: CNoop's reserved concurrency is 0 (set through the "
                      "API), so its events are not run; the reference is one writer committing one row per "
                      "transaction on the same filesystem (python sqlite3)",
    }


def _put_json(port, path, body):
    """PUT of a JSON body to the host's API; raises BenchFailure unless it answers 2xx."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="PUT",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except (OSError, urllib.error.HTTPError) as error:
        raise BenchFailure(f"PUT {path} failed: {error}")


def _python_interpreter(minor):
    """The real python3.X (not a pyenv shim), as the host resolves it."""
    for name in (f"python3.{minor}", os.path.expanduser(f"~/.pyenv/versions/3.{minor}/bin/python3.{minor}")):
        try:
            done = subprocess.run([name, "-c", "import sys; print(sys.executable)"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return done.stdout.decode().strip()
    versions = os.path.expanduser("~/.pyenv/versions")
    for version in sorted(os.listdir(versions) if os.path.isdir(versions) else [], reverse=True):
        candidate = os.path.join(versions, version, "bin", f"python3.{minor}")
        if version.startswith(f"3.{minor}.") and os.access(candidate, os.X_OK):
            return candidate
    return None


def _node_interpreter():
    try:
        done = subprocess.run(["node", "-p", "process.execPath"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode().strip() if done.returncode == 0 else None


def _start_times_ms(argv, count):
    """Wall time of `argv` from spawn to exit, `count` times."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60, check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def runtime_cold_starts(fnhost, bench, workdir, count):
    """Forced cold starts of the Python and Node.js no-ops (PyExit, NodeExit), beside the bare
    interpreter started and exited the same number of times."""
    python = _python_interpreter(11)
    node = _node_interpreter()
    if not python or not node:
        raise BenchFailure(f"python3.11 ({python}) and node ({node}) are needed for the runtime cold starts")
    references = {
        "python3.11 -S -c pass": ([python, "-S", "-c", "pass"], "PyExit"),
        "node -e 0": ([node, "-e", "0"], "NodeExit"),
    }
    result = {}
    server, _ = _start_host(fnhost, workdir, "runtime-cold")
    try:
        for label, (argv, function) in references.items():
            log(f"runtime cold starts: {count} of {function}, {count} of `{label}`")
            cold = run_client(bench, ["cold", "--port", str(server.port), "--function", function, "--count", str(count)])
            reference = _start_times_ms(argv, count)
            init = summarize(cold["init_ms"], 1.0, 2)
            bare = _quantiles(reference)
            result[function] = {
                "samples": cold["samples"],
                "init_duration_ms": {k: v for k, v in init.items() if k != "p99.9"},
                "cold_invoke_latency_ms": {k: v for k, v in summarize(cold["cold_ns"], 1e6, 2).items() if k != "p99.9"},
                "reference": label,
                "reference_ms": bare,
                "init_over_reference_p50_ms": round(init["p50"] - bare["p50"], 2),
            }
        plain = _quantiles(_start_times_ms([python, "-c", "pass"], count))
        result["PyExit"]["python3.11 -c pass (with site) ms"] = plain
    finally:
        server.stop()
    result["definitions"] = {
        "init_duration_ms": "host-measured, spawn of fnhost-launch to the runtime's first GET /next (REPORT 'Init "
                            "Duration'), full sandbox, the interpreter resolved by the host",
        "reference_ms": "the same interpreter started and exited by a plain subprocess (wall time, spawn to exit)",
        "init_over_reference_p50_ms": "target: at most 15 ms",
    }
    return result


def burst(bin_dir, workdir, concurrent):
    """`concurrent` simultaneous 1-second invokes of a cold function, then again warm (bench/concurrency.py)."""
    from concurrency import fnhost_start_limit, reference_rounds, run_rounds

    directory = os.path.join(workdir, "burst")
    os.makedirs(directory)
    figures = run_rounds(bin_dir, concurrent, 2, directory)
    cold, warm = figures["rounds"]
    log(f"burst: the same {concurrent} simultaneous invokes through bench/floor/relay.c (the reference)")
    reference_cold, reference_warm = reference_rounds(concurrent, 2, directory)
    start_limit = fnhost_start_limit()
    log(f"burst: the cold round through bench/floor/relay.c starting at most {start_limit} workers at once (fnhost's policy)")
    same_policy_cold = reference_rounds(concurrent, 1, directory, start_limit)[0]
    return {
        "function": "CSleep (bench/functions/c-sleep: the C no-op plus a 1 s sleep), bench/concurrency.yaml",
        "concurrent": concurrent,
        "lost": cold["lost"] + warm["lost"],
        "cold_round": cold,
        "warm_round": warm,
        "pool_full_after_cold_round_s": figures.get("pool_full_after_cold_round_s"),
        "host": figures["host"],
        "workers": figures["workers"],
        "reference": {
            "cold_round": reference_cold,
            "warm_round": reference_warm,
            "definition": "the same rounds, same client, through bench/floor/relay.c: a bare one-thread C host that "
                          "posix_spawns the same bootstrap for each request no idle worker takes (no launcher, sandbox, "
                          "cgroup, logs or limits); what the client, the function's start-up and 1 s sleep and this "
                          "machine cost without fnhost",
        },
        "reference_same_policy": {
            "cold_round": same_policy_cold,
            "start_limit": start_limit,
            "definition": "the cold round through bench/floor/relay.c with fnhost's default start limit: at most "
                          "that many workers start at once, and a request that finds none idle and no start free "
                          "takes whichever comes first, a worker that finished or a start of its own",
        },
        "over_reference_p99_ms": {
            "cold_round": round(cold["latency_ms"]["p99"] - reference_cold["latency_ms"]["p99"], 1),
            "warm_round": round(warm["latency_ms"]["p99"] - reference_warm["latency_ms"]["p99"], 1),
            "cold_round_same_policy": round(cold["latency_ms"]["p99"] - same_policy_cold["latency_ms"]["p99"], 1),
        },
    }


def _invoke_in_background(port, function, count):
    """`count` invokes of `function`, each on its own connection; their HTTP statuses (or errors)."""
    import http.client

    outcomes = [None] * count

    def invoke(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", f"/2015-03-31/functions/{function}/invocations", body=b"{}")
            response = connection.getresponse()
            response.read()
            error = response.getheader("X-Amz-Function-Error")
            outcomes[index] = f"{response.status} {error}" if error else response.status
        except Exception as error:  # noqa: BLE001 - recorded as the outcome
            outcomes[index] = type(error).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=invoke, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def _concurrent_executions(port):
    """`fnhost_account_concurrent_executions` from the host's /metrics."""
    import http.client
    import re

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    match = re.search(r"^fnhost_account_concurrent_executions(?:{[^}]*})? ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def _sigterm_to_exit_ms(server):
    started = time.perf_counter()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        raise BenchFailure("the host did not exit within 30 s of SIGTERM")
    return (time.perf_counter() - started) * 1000


def shutdown(bin_dir, workdir, runs, busy_invokes=16):
    """SIGTERM to exit of an idle host (one warm worker, nothing running) and of a busy one
    (`busy_invokes` 1-second invokes running)."""
    fnhost = os.path.join(bin_dir, "fnhost")
    template = os.path.join(HERE, "concurrency.yaml")
    idle, busy, busy_outcomes = [], [], {}
    for run in range(runs):
        log(f"shutdown {run + 1}/{runs}: idle host")
        server, _ = _start_host(fnhost, workdir, f"shutdown-idle{run}", template)
        try:
            threads, outcomes = _invoke_in_background(server.port, "CSleep", 1)
            for thread in threads:
                thread.join(timeout=30)
            if outcomes != [200]:
                raise BenchFailure(f"the idle host's warm-up invoke failed: {outcomes}")
            idle.append(_sigterm_to_exit_ms(server))
        finally:
            server.stop()
        log(f"shutdown {run + 1}/{runs}: busy host, {busy_invokes} invokes running")
        server, _ = _start_host(fnhost, workdir, f"shutdown-busy{run}", template)
        try:
            # Warm workers first, so that the measured invokes start running as soon as they are admitted.
            threads, outcomes = _invoke_in_background(server.port, "CSleep", busy_invokes)
            for thread in threads:
                thread.join(timeout=60)
            threads, outcomes = _invoke_in_background(server.port, "CSleep", busy_invokes)
            # Busy: every invoke admitted (and, the workers being warm, running its 1 s sleep).
            deadline = time.monotonic() + 10
            while _concurrent_executions(server.port) < busy_invokes and time.monotonic() < deadline:
                time.sleep(0.005)
            if _concurrent_executions(server.port) < busy_invokes:
                raise BenchFailure(f"the busy host did not run {busy_invokes} invokes at once within 10 s")
            busy.append(_sigterm_to_exit_ms(server))
            for thread in threads:
                thread.join(timeout=30)
            for outcome in outcomes:
                busy_outcomes[str(outcome)] = busy_outcomes.get(str(outcome), 0) + 1
        finally:
            server.stop()
    return {
        "idle_sigterm_to_exit_ms": _quantiles(idle, 1) | {"runs": [round(v, 1) for v in idle]},
        "busy_sigterm_to_exit_ms": _quantiles(busy, 1) | {"runs": [round(v, 1) for v in busy]},
        "busy_invokes": busy_invokes,
        "busy_invoke_outcomes": busy_outcomes,
        "definition": "SIGTERM sent to `fnhost serve` until the process has exited (waitpid), bench/concurrency.yaml; "
                      "idle: one warm worker, nothing running; busy: as many CSleep invokes (1 s) running on warm workers, SIGTERM once "
                      "/metrics counts them all in flight. Targets: 200 ms, 1 s",
    }
