#!/usr/bin/env python3
"""fnhost concurrency benchmark: N simultaneous invokes of a 1-second function through one host.

Started by bench/run-concurrency. Starts `fnhost serve` on 127.0.0.1 port 0 with
bench/concurrency.yaml, then runs --rounds rounds of --concurrent invokes released at the same
moment (one thread and one connection each). Round 1 meets no worker (cold), later rounds reuse
them (warm), once the host's `/metrics` counts a warm worker per invoke (after a burst fnhost goes
on starting environments until it has one per invocation at the peak, as Lambda would;
`pool_full_after_cold_round_s` says how long that took). Reports per round: completed (200
without X-Amz-Function-Error), lost
(anything else: throttles, errors, timeouts), latency p50/p99/max from each request's own send,
the same from the moment all were released (`from_release_ms`) and when the last was sent (a
client thread starved of the CPU sends late, which its own latency hides); and for the host: peak RSS
(VmHWM), RSS before the first round and with every worker idle, so the host's own cost per
worker; and the workers' own RSS (launcher + bootstrap) per worker. The same rounds then run
against the reference, bench/floor/relay.c with up to --concurrent workers of the same bootstrap:
a bare C host that spawns a worker per waiting request, so its rounds are what this client, the
function's own start-up and sleep and the machine cost without fnhost. Everything is bounded:
each request has a 60 s timeout and the hosts are stopped at the end.
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fnhost_bench import HERE, BenchFailure, Server, log, machine_info, percentile  # noqa: E402

REQUEST_TIMEOUT = 60.0


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def descendants(pid):
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        # Children hang off the thread that spawned them, so every thread's list is read.
        kids = []
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            tasks = []
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as children:
                    kids += [int(p) for p in children.read().split()]
            except OSError:
                pass
        found += kids
        stack += kids
    return found


def one_round(port, count):
    barrier = threading.Barrier(count + 1)
    results = [None] * count

    def invoke(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            connection.connect()
            barrier.wait(timeout=60)
            started = time.monotonic()
            connection.request("POST", "/2015-03-31/functions/CSleep/invocations", body=b"{}")
            response = connection.getresponse()
            response.read()
            finished = time.monotonic()
            ok = response.status == 200 and response.getheader("X-Amz-Function-Error") is None
            results[index] = (ok, finished - started, response.status, started, finished)
        except Exception as error:  # noqa: BLE001 - counted as lost
            results[index] = (False, None, repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=invoke, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=60)
    round_started = time.monotonic()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 10)
    wall = time.monotonic() - round_started
    latencies = sorted(r[1] * 1000 for r in results if r and r[0])
    # A thread starved of the CPU sends late and times only from its own send: the spread of the
    # sends, and each answer timed from the moment all were released, show what that hides.
    from_release = sorted((r[4] - round_started) * 1000 for r in results if r and r[0])
    sends = [(r[3] - round_started) * 1000 for r in results if r and r[0]]
    failures = {}
    for r in results:
        if not r or not r[0]:
            key = str(r[2]) if r else "no answer"
            failures[key] = failures.get(key, 0) + 1
    return {
        "completed": len(latencies),
        "lost": count - len(latencies),
        "failures": failures,
        "wall_s": round(wall, 3),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1) if latencies else None,
            "p99": round(percentile(latencies, 99), 1) if latencies else None,
            "max": round(latencies[-1], 1) if latencies else None,
        },
        "from_release_ms": {
            "p50": round(percentile(from_release, 50), 1) if from_release else None,
            "p99": round(percentile(from_release, 99), 1) if from_release else None,
        },
        "last_sent_after_release_ms": round(max(sends), 1) if sends else None,
    }


def wait_for_warm_workers(port, count, limit_s=60.0):
    """Seconds until the host's `/metrics` counts `count` idle CSleep workers: after a burst fnhost
    goes on starting environments until it has one per invocation at the peak (as Lambda would),
    so the warm round is run on a full pool; None if it never got there within `limit_s`."""
    import re
    import urllib.request
    started = time.monotonic()
    pattern = re.compile(r'^fnhost_workers\{(?=[^}]*function_name="CSleep")(?=[^}]*state="warm")[^}]*\} (\S+)$', re.M)
    while time.monotonic() - started < limit_s:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            found = pattern.search(answer.read().decode())
        if found and float(found.group(1)) >= count:
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)  # polling a gauge, bounded by limit_s
    return None


def raise_fd_limit(concurrent):
    """Each invoke holds a client socket, a host socket and a worker's descriptors."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8 * concurrent + 1024)), hard))


def run_rounds(bin_dir, concurrent, rounds, workdir, max_starting=None):
    """Starts a host on bench/concurrency.yaml, runs the rounds, stops it: rounds, host and workers."""
    raise_fd_limit(concurrent)
    argv = [os.path.join(bin_dir, "fnhost"), "serve", "--template", os.path.join(HERE, "concurrency.yaml"),
            "--port", "0", "--state-dir", os.path.join(workdir, "state")]
    if max_starting:
        argv += ["--max-starting", str(max_starting)]
    server = Server("fnhost-concurrency", argv, "fnhost listening on", workdir)
    result = {"concurrent": concurrent, "function_sleep_s": 1.0, "rounds": []}
    try:
        pid = server.process.pid
        time.sleep(0.5)  # let start-up settle before the baseline sample (a reading, not a wait for an outcome)
        baseline_kb = status_kb(pid, "VmRSS")
        for index in range(rounds):
            if index == 1:
                result["pool_full_after_cold_round_s"] = wait_for_warm_workers(server.port, concurrent)
            log(f"round {index + 1}: {concurrent} simultaneous invokes")
            figures = one_round(server.port, concurrent)
            figures["kind"] = "cold" if index == 0 else "warm"
            result["rounds"].append(figures)
        workers = descendants(pid)
        worker_kb = sum(status_kb(p, "VmRSS") for p in workers if os.path.exists(f"/proc/{p}"))
        idle_kb = status_kb(pid, "VmRSS")
        result["host"] = {
            "peak_rss_mb": round(status_kb(pid, "VmHWM") / 1024, 1),
            "rss_before_mb": round(baseline_kb / 1024, 1),
            "rss_with_idle_workers_mb": round(idle_kb / 1024, 1),
            "host_overhead_per_worker_kb": round((idle_kb - baseline_kb) / concurrent, 1),
        }
        result["workers"] = {
            "processes": len(workers),
            "rss_per_worker_kb": round(worker_kb / concurrent, 1),
        }
    finally:
        server.stop()
    return result


def reference_rounds(concurrent, rounds, workdir, start_limit=None):
    """The same rounds through bench/floor/relay.c, which starts the same bootstrap on demand: a
    worker per waiting request, or with `start_limit` at most that many starting at once and the
    rest waiting for the first worker free or start free, as fnhost does."""
    relay = os.path.join(HERE, "floor", "build", "relay")
    argv = [relay, os.path.join(HERE, "functions", "c-sleep", "build", "bootstrap"), str(concurrent)]
    if start_limit:
        argv.append(str(start_limit))
    server = Server("relay-concurrency", argv, "relay listening on", workdir)
    try:
        return [dict(one_round(server.port, concurrent), kind="cold" if index == 0 else "warm")
                for index in range(rounds)]
    finally:
        server.stop()


def fnhost_start_limit():
    """fnhost's default `--max-starting`: four cold starts per CPU."""
    return 4 * (os.cpu_count() or 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--concurrent", type=int, default=500, help="simultaneous invokes per round (default 500)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the first is cold (default 2)")
    parser.add_argument("--max-starting", type=int, help="fnhost serve --max-starting (default: the host's)")
    options = parser.parse_args()

    import tempfile
    workdir = tempfile.mkdtemp(prefix="fnhost-concurrency-")
    machine = machine_info()
    result = {"benchmark": "concurrency", "machine": machine}
    result.update(run_rounds(options.bin_dir, options.concurrent, options.rounds, workdir, options.max_starting))
    log("reference: the same rounds through bench/floor/relay.c")
    result["reference_rounds"] = reference_rounds(options.concurrent, options.rounds, workdir)
    log("reference: the cold round through bench/floor/relay.c with fnhost's start limit")
    result["reference_same_policy_cold_round"] = reference_rounds(options.concurrent, 1, workdir, fnhost_start_limit())[0]
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        log(f"failed: {failure}")
        sys.exit(1)
