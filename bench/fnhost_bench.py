#!/usr/bin/env python3
"""Drives the fnhost benchmark and prints one JSON document on stdout (progress on stderr).

Started by bench/run after the build. It only starts processes on 127.0.0.1 and stops every
one of them again; every step has a time limit. The timing itself is done by
`fnhost-bench warm|cold` (a small Swift raw-socket client), so the Python here is never on the
measured path: it starts servers, collects raw samples and summarises them.

Summaries: nearest-rank percentiles of each run's samples; across runs, the median of each
per-run figure (this machine is noisy, so one run proves little).
"""

import argparse
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
READY_TIMEOUT = 30.0
STEP_TIMEOUT = 600.0


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


class BenchFailure(Exception):
    pass


class Server:
    """A server process on port 0 whose stdout goes to a file (so nothing can block on a full
    pipe); ready once `ready_prefix` shows up in that file."""

    def __init__(self, name, argv, ready_prefix, workdir, env=None):
        self.name = name
        self.stdout_path = os.path.join(workdir, f"{name}.stdout")
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=ROOT, env=env)
        self.port = self._wait_ready(ready_prefix)

    def _wait_ready(self, prefix):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            with open(self.stdout_path, "rb") as out:
                for line in out:
                    text = line.decode("utf-8", "replace")
                    if text.startswith(prefix):
                        # "... listening on http://127.0.0.1:PORT ..."
                        address = text.split("http://", 1)[1].split()[0]
                        return int(address.rsplit(":", 1)[1])
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise BenchFailure(f"{self.name} did not become ready: {self.tail_stderr()}")

    def tail_stderr(self):
        try:
            with open(self.stderr_path, "rb") as err:
                return err.read()[-2000:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_client(bench_binary, args):
    argv = [bench_binary] + args
    try:
        done = subprocess.run(argv, capture_output=True, timeout=STEP_TIMEOUT, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise BenchFailure(f"{' '.join(argv)} took longer than {STEP_TIMEOUT:.0f} s")
    if done.returncode != 0:
        raise BenchFailure(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()}")
    return json.loads(done.stdout)


def run_load(fnhost, port, function, invocation_type, concurrency, duration, warmup):
    """`fnhost load` as a closed-loop client of `function` on 127.0.0.1:`port` (no AWS credentials);
    the figures of its --json summary."""
    argv = [fnhost, "load", function, "--endpoint", f"http://127.0.0.1:{port}", "--invocation-type", invocation_type,
            "--concurrency", str(concurrency), "--duration", f"{duration}s", "--warmup", str(warmup), "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_CONFIG_FILE="/dev/null")
    try:
        done = subprocess.run(argv, capture_output=True, timeout=duration + 120, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        raise BenchFailure(f"fnhost load {function} ({invocation_type}) on port {port} did not finish")
    if done.returncode != 0:
        raise BenchFailure(f"fnhost load {function} ({invocation_type}) failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')}")
    summary = json.loads(done.stdout)
    return {
        "requests": summary["requests"], "completed": summary["completed"],
        "failed": summary["requests"] - summary["completed"], "rps": summary["throughput_rps"],
        "latency_ms": {k: summary["latency_ms"][k] for k in ("p50", "p99", "max")},
        "warnings": summary["warnings"],
    }


def report_durations(log_path):
    """`Duration` of every REPORT line in a function's log, in milliseconds (host-measured: the
    event handed to /next until /response arrived; printed with 10 µs resolution)."""
    durations = []
    with open(log_path, encoding="utf-8", errors="replace") as log_file:
        for line in log_file:
            if line.startswith("REPORT "):
                for field in line.split("\t"):
                    if field.startswith("Duration: "):
                        durations.append(float(field.split()[1]))
    return durations


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(values, scale, digits):
    """p50/p90/p99/p99.9/max/mean of `values` divided by `scale`."""
    ordered = sorted(values)
    r = lambda v: round(v / scale, digits)
    return {
        "n": len(ordered),
        "p50": r(percentile(ordered, 50)),
        "p90": r(percentile(ordered, 90)),
        "p99": r(percentile(ordered, 99)),
        "p99.9": r(percentile(ordered, 99.9)),
        "max": r(ordered[-1]),
        "mean": r(statistics.fmean(ordered)),
    }


def warm_run_figures(sample):
    figures = summarize(sample["latencies_ns"], 1000.0, 1)
    figures["invokes_per_s"] = round(sample["requests"] / (sample["wall_ns"] / 1e9), 1)
    return figures


def median_of_runs(runs):
    keys = [k for k in runs[0] if k != "n"]
    return {k: round(statistics.median(run[k] for run in runs), 1) for k in keys}


def machine_info():
    info = {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "loadavg_start": list(os.getloadavg()),
    }
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as meminfo:
            info["mem_total_kb"] = int(meminfo.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        version = subprocess.run(["swift", "--version"], capture_output=True, timeout=60, text=True)
        info["swift"] = (version.stdout or version.stderr).splitlines()[0].strip()
    except (OSError, subprocess.TimeoutExpired, IndexError):
        pass
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain"], capture_output=True, text=True, timeout=30)
        info["git_commit"] = commit.stdout.strip()
        info["git_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True, help="SwiftPM release bin directory (fnhost, fnhost-bench)")
    parser.add_argument("--runs", type=int, default=5, help="warm/echo measurement repetitions (default 5)")
    parser.add_argument("--count", type=int, default=10000, help="timed sequential invokes per run (default 10000, min 5000)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed invokes before each run (default 200)")
    parser.add_argument("--cold", type=int, default=200, help="forced cold starts (default 200; 0 skips)")
    parser.add_argument("--no-sandbox-cost", action="store_true",
                        help="skip the second cold-start series with the worker sandbox off (FNHOST_SANDBOX=off)")
    parser.add_argument("--only-cold", action="store_true", help="skip the warm and echo runs")
    parser.add_argument("--cpus", help="pin servers, functions and client to these CPUs, e.g. 0 or 0,1 (default: no pinning)")
    parser.add_argument("--throughput-duration", type=float, default=10,
                        help="seconds of each throughput run (default 10; 0 skips throughput)")
    parser.add_argument("--throughput-concurrency", type=int, default=16,
                        help="closed-loop clients of `fnhost load` in the throughput runs (default 16)")
    parser.add_argument("--async-duration", type=float, default=10,
                        help="seconds of the durable Event enqueue run (default 10; 0 skips it)")
    parser.add_argument("--runtime-cold", type=int, default=50,
                        help="forced cold starts of the Python and Node.js no-ops (default 50; 0 skips them)")
    parser.add_argument("--burst", type=int, default=1000,
                        help="simultaneous 1-second invokes of a cold function, then warm (default 1000; 0 skips)")
    parser.add_argument("--shutdown-runs", type=int, default=3,
                        help="SIGTERM-to-exit measurements of an idle and a busy host (default 3; 0 skips)")
    options = parser.parse_args()
    if options.runs < 1 or options.count < 5000 or options.warmup < 0 or options.cold < 0:
        parser.error("need --runs >= 1, --count >= 5000, --warmup >= 0, --cold >= 0")
    if options.async_duration < 0 or options.runtime_cold < 0 or options.burst < 0 or options.shutdown_runs < 0:
        parser.error("need --async-duration, --runtime-cold, --burst and --shutdown-runs >= 0")
    if options.cpus:
        # Every process started from here inherits the mask (the host's workers too).
        try:
            os.sched_setaffinity(0, {int(cpu) for cpu in options.cpus.split(",")})
        except (ValueError, OSError) as error:
            parser.error(f"--cpus {options.cpus}: {error}")

    fnhost = os.path.join(options.bin_dir, "fnhost")
    floor_binary = os.path.join(HERE, "floor", "build", "floor")
    spawn_binary = os.path.join(HERE, "floor", "build", "spawn")
    relay_binary = os.path.join(HERE, "floor", "build", "relay")
    noop_bootstrap = os.path.join(ROOT, "functions", "c-noop", "build", "bootstrap")
    bench = os.path.join(options.bin_dir, "fnhost-bench")
    template = os.path.join(HERE, "template.yaml")
    invoke_path = "/2015-03-31/functions/CNoop/invocations"
    started = time.monotonic()
    machine = machine_info()
    workdir = tempfile.mkdtemp(prefix="fnhost-bench-")

    def start_fnhost(label, env=None):
        state = os.path.join(workdir, label)
        os.makedirs(state)
        argv = [fnhost, "serve", "--template", template, "--port", "0", "--state-dir", state]
        return Server(f"fnhost-{label}", argv, "fnhost listening on", workdir, env=env)

    def cold_series(label, env=None):
        server = start_fnhost(label, env)
        try:
            result = run_client(bench, ["cold", "--port", str(server.port), "--function", "CExit",
                                        "--count", str(options.cold)])
        finally:
            server.stop()
        # The host names the protections that are off in one start-up warning.
        warning = [line for line in server.tail_stderr().splitlines() if "without sandbox protections" in line]
        result["sandbox"] = warning[0].split("fnhost: ", 1)[-1] if warning else "full"
        return result

    def start_echo(label):
        return Server(f"echo-{label}", [bench, "echo", "--port", "0"], "echo listening on", workdir)

    def start_floor(label):
        return Server(f"floor-{label}", [floor_binary, "0"], "floor listening on", workdir)

    def start_relay(label, workers=1):
        return Server(f"relay-{label}", [relay_binary, noop_bootstrap, str(workers)], "relay listening on", workdir)

    def start_side(side, run):
        starts = {"fnhost": lambda: start_fnhost(f"warm{run}"), "echo": lambda: start_echo(f"{run}"),
                  "floor": lambda: start_floor(f"{run}"), "relay": lambda: start_relay(f"{run}")}
        return starts[side]()

    def load_run(label, server, warmup):
        log(f"throughput: {label}, {options.throughput_concurrency} clients for {options.throughput_duration:g} s")
        return run_load(fnhost, server.port, "CNoop", "RequestResponse", options.throughput_concurrency,
                        options.throughput_duration, warmup)

    warm_samples, echo_samples, floor_samples, relay_samples = [], [], [], []
    extra = {}
    throughput = None
    fork_exec = None
    try:
        for run in range(0 if options.only_cold else options.runs):
            # Rotate the order so slow drift of the machine does not favour one side.
            sides = ["fnhost", "floor", "echo", "relay"]
            order = sides[run % len(sides):] + sides[:run % len(sides)]
            for side in order:
                log(f"run {run + 1}/{options.runs}: {side}, {options.warmup} warm-up + {options.count} timed invokes")
                server = start_side(side, run)
                try:
                    args = ["warm", "--port", str(server.port), "--path", invoke_path,
                            "--warmup", str(options.warmup), "--count", str(options.count)]
                    if side == "fnhost":
                        args.append("--tail-first")
                    sample = run_client(bench, args)
                finally:
                    server.stop()
                if side == "fnhost":
                    log_path = os.path.join(workdir, f"warm{run}", "logs", "CNoop.log")
                    sample["report_durations_ms"] = report_durations(log_path)[-options.count:]
                {"fnhost": warm_samples, "echo": echo_samples, "floor": floor_samples,
                 "relay": relay_samples}[side].append(sample)

        if options.throughput_duration > 0 and not options.only_cold:
            server = start_floor("throughput")
            try:
                floor_throughput = load_run("floor", server, warmup=1000)
            finally:
                server.stop()
            # The bare C host may start as many workers as fnhost does: one per client.
            server = start_relay("throughput", workers=options.throughput_concurrency)
            try:
                relay_throughput = load_run("relay", server, warmup=1000)
            finally:
                server.stop()
            server = start_fnhost("throughput")
            try:
                fnhost_throughput = load_run("fnhost", server, warmup=1000)
            finally:
                server.stop()
            throughput = (fnhost_throughput, floor_throughput, relay_throughput)

        cold = unsandboxed = None
        if options.cold:
            log(f"cold: {options.cold} bare fork+exec of CExit's bootstrap (the reference)")
            try:
                done = subprocess.run([spawn_binary, os.path.join(HERE, "functions", "c-exit", "build", "bootstrap"),
                                       str(options.cold)], capture_output=True, timeout=STEP_TIMEOUT, cwd=ROOT)
            except subprocess.TimeoutExpired:
                raise BenchFailure("the fork+exec reference took too long")
            if done.returncode != 0:
                raise BenchFailure(f"the fork+exec reference failed: {done.stderr.decode(errors='replace')}")
            fork_exec = json.loads(done.stdout)
            log(f"cold: {options.cold} forced cold starts of CExit")
            cold = cold_series("cold")
            if not options.no_sandbox_cost:
                # The same series with the worker sandbox off (bench-only switch, see bench/README.md).
                log(f"cold: {options.cold} forced cold starts of CExit with FNHOST_SANDBOX=off")
                unsandboxed = cold_series("cold-nosandbox", dict(os.environ, FNHOST_SANDBOX="off"))

        import host_figures

        if options.async_duration > 0:
            extra["async_enqueue"] = host_figures.async_enqueue(
                fnhost, workdir, options.async_duration, options.throughput_concurrency)
        if options.runtime_cold:
            extra["runtime_cold_start"] = host_figures.runtime_cold_starts(fnhost, bench, workdir, options.runtime_cold)
        if options.burst:
            extra["burst"] = host_figures.burst(options.bin_dir, workdir, options.burst)
        if options.shutdown_runs:
            extra["shutdown"] = host_figures.shutdown(options.bin_dir, workdir, options.shutdown_runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    machine["loadavg_end"] = list(os.getloadavg())
    report = {
        "benchmark": "fnhost warm invoke latency, cold start and throughput, each beside its reference",
        "machine": machine,
        "config": {
            "build": "release",
            "runs": 0 if options.only_cold else options.runs,
            "timed_invokes_per_run": options.count,
            "warmup_invokes_per_run": options.warmup,
            "cold_starts": options.cold,
            "cpus": sorted(os.sched_getaffinity(0)) if options.cpus else "not pinned",
            "percentiles": "nearest-rank over one run's samples; 'median' is the median of each figure across runs",
            "units": "warm/echo/floor in microseconds, cold_start in milliseconds, throughput in requests/s",
        },
    }
    if warm_samples:
        warm_runs = [warm_run_figures(s) for s in warm_samples]
        echo_runs = [warm_run_figures(s) for s in echo_samples]
        warm_median, echo_median = median_of_runs(warm_runs), median_of_runs(echo_runs)
        report["config"]["client"] = warm_samples[0]["client"]
        report["warm"] = {
            "target": "fnhost serve, POST /2015-03-31/functions/CNoop/invocations {} -> 200 {} (C no-op on libcurl)",
            "response_bytes": warm_samples[0]["response_bytes"],
            "median": warm_median,
            "runs": warm_runs,
            "host_report_duration_us": {
                "definition": "REPORT 'Duration' (event handed to the runtime's /next until its /response arrived), i.e. the "
                              "Runtime API round trip inside the invoke; median across runs; 10 us resolution",
                "median": median_of_runs([summarize(s["report_durations_ms"], 0.001, 0) for s in warm_samples]),
            },
            "first_invoke_of_each_host": [
                {"init_ms": s["first"]["init_ms"], "latency_ms": round(s["first"]["latency_ns"] / 1e6, 2)}
                for s in warm_samples
            ],
        }
        report["echo"] = {
            "target": "fnhost-bench echo: Hummingbird 2 Application, same route, returns the body with fnhost's response headers",
            "response_bytes": echo_samples[0]["response_bytes"],
            "median": echo_median,
            "runs": echo_runs,
        }
        floor_runs = [warm_run_figures(s) for s in floor_samples]
        floor_median = median_of_runs(floor_runs)
        report["floor"] = {
            "target": "bench/floor/floor.c: one-thread epoll HTTP/1.1 server in C, answers the body back; the kernel's floor",
            "response_bytes": floor_samples[0]["response_bytes"],
            "median": floor_median,
            "runs": floor_runs,
        }
        relay_runs = [warm_run_figures(s) for s in relay_samples]
        relay_median = median_of_runs(relay_runs)
        report["relay"] = {
            "target": "bench/floor/relay.c: one-thread epoll C host relaying each request to the same C no-op process "
                      "through the Runtime API (parked /next, /response) and back; no sandbox, logs or limits: the floor "
                      "of an invoke of this function",
            "response_bytes": relay_samples[0]["response_bytes"],
            "median": relay_median,
            "runs": relay_runs,
        }
        report["ratio"] = {
            "definition": "fnhost / floor (the C server), from the medians across runs; per_run pairs runs of the same round",
            "p50": round(warm_median["p50"] / floor_median["p50"], 2),
            "p99": round(warm_median["p99"] / floor_median["p99"], 2),
            "per_run_p50": [round(w["p50"] / f["p50"], 2) for w, f in zip(warm_runs, floor_runs)],
            "per_run_p99": [round(w["p99"] / f["p99"], 2) for w, f in zip(warm_runs, floor_runs)],
            "echo_over_floor_p50": round(echo_median["p50"] / floor_median["p50"], 2),
            "fnhost_over_echo_p50": round(warm_median["p50"] / echo_median["p50"], 2),
            "fnhost_over_relay_p50": round(warm_median["p50"] / relay_median["p50"], 2),
            "fnhost_over_relay_p99": round(warm_median["p99"] / relay_median["p99"], 2),
            "relay_over_floor_p50": round(relay_median["p50"] / floor_median["p50"], 2),
        }
    if throughput:
        fnhost_throughput, floor_throughput, relay_throughput = throughput
        report["throughput"] = {
            "client": f"fnhost load, {options.throughput_concurrency} closed-loop keep-alive clients, "
                      f"{options.throughput_duration:g} s after 1000 warm-up requests",
            "fnhost": fnhost_throughput,
            "floor": floor_throughput,
            "relay": relay_throughput,
            "ratio_rps": round(fnhost_throughput["rps"] / floor_throughput["rps"], 4),
            "ratio_over_relay": round(fnhost_throughput["rps"] / relay_throughput["rps"], 4),
            "definition": "floor.rps is also what the generator itself sustains: client and C server share the machine; "
                          f"relay.rps is the same invokes of the same C no-op through bench/floor/relay.c with up to "
                          f"{options.throughput_concurrency} workers: what any host can reach with this function here",
        }
    if cold:
        report["cold_start"] = {
            "function": "CExit (bench/functions/c-exit: the C no-op that exits on {\"exit\":true})",
            "method": "invoke {\"exit\":true} (runtime exits mid-invoke, host discards the worker), then time the next invoke, which starts a new worker",
            "samples": cold["samples"],
            "init_duration_ms": {k: v for k, v in summarize(cold["init_ms"], 1.0, 2).items() if k != "p99.9"},
            "cold_invoke_latency_ms": {k: v for k, v in summarize(cold["cold_ns"], 1e6, 2).items() if k != "p99.9"},
            "discarding_exit_invoke_ms": {k: v for k, v in summarize(cold["exit_ns"], 1e6, 2).items() if k != "p99.9"},
            "reference_fork_exec_ms": {k: v for k, v in summarize(fork_exec["init_ms"], 1.0, 2).items() if k != "p99.9"},
            "ratio_init_p50": round(summarize(cold["init_ms"], 1.0, 2)["p50"] / summarize(fork_exec["init_ms"], 1.0, 2)["p50"], 2),
            "definitions": {
                "init_duration_ms": "host-measured, spawn of fnhost-launch (or the order to a standby launcher waiting in its cgroups) to the runtime's first GET /next (REPORT 'Init Duration')",
                "reference_fork_exec_ms": "bench/floor/spawn.c: posix_spawn of the same bootstrap (no launcher, sandbox or "
                                          "cgroup) until its first GET /next reaches a bare socket",
                "cold_invoke_latency_ms": "client-observed: Runtime API listener bind + spawn + init + invoke + response",
            },
        }
    if cold and unsandboxed:
        on = summarize(cold["init_ms"], 1.0, 2)
        off = summarize(unsandboxed["init_ms"], 1.0, 2)
        report["sandbox_cost"] = {
            "definition": "the cold_start series again with FNHOST_SANDBOX=off (workers started with fnhost-launch --chdir: "
                          "no mount namespace, private root, uid change, seccomp); ratio = sandboxed / unsandboxed",
            "sandbox": cold.get("sandbox", "full"),
            "samples": unsandboxed["samples"],
            "unsandboxed_init_duration_ms": {k: v for k, v in off.items() if k != "p99.9"},
            "unsandboxed_cold_invoke_latency_ms":
                {k: v for k, v in summarize(unsandboxed["cold_ns"], 1e6, 2).items() if k != "p99.9"},
            "ratio_init_p50": round(on["p50"] / off["p50"], 2),
            "ratio_init_p90": round(on["p90"] / off["p90"], 2),
            "delta_init_p50_ms": round(on["p50"] - off["p50"], 2),
            "delta_init_mean_ms": round(on["mean"] - off["mean"], 2),
        }
    if "async_enqueue" in extra and throughput:
        # The generator's own ceiling on this machine, from the throughput runs.
        extra["async_enqueue"]["generator_ceiling_rps"] = throughput[1]["rps"]
    report.update(extra)
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main()
    except BenchFailure as failure:
        log(f"failed: {failure}")
        sys.exit(1)
