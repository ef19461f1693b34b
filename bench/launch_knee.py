#!/usr/bin/env python3
"""How many sandboxed starts this machine takes in parallel before throughput stops rising: runs
`--count` launches of `fnhost-launch --task-root DIR --sandbox --seccomp-program FD -- /var/task/bootstrap`
(the full sandbox with the policy compiled once, as the host starts workers; the bootstrap is
/bin/true, so the figure is the launcher's and the sandbox's cost, not a runtime's), keeping each of
`--parallel` in flight, and prints starts/s and the CPU of the reaped children per start. Needs root.

    python3 bench/launch_knee.py [--launcher .build/release/fnhost-launch] [--count 400] [--parallel 1,4,16,64]
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launcher", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "fnhost-launch"))
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--parallel", default="1,4,16,64")
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("launch_knee: the full sandbox needs root")
    workdir = tempfile.mkdtemp(prefix="fnhost-knee-")
    try:
        task = os.path.join(workdir, "task")
        os.makedirs(task)
        shutil.copy("/bin/true", os.path.join(task, "bootstrap"))
        program_path = os.path.join(workdir, "seccomp")
        with open(program_path, "wb") as program:
            subprocess.run([options.launcher, "--export-seccomp"], stdout=program, check=True, timeout=30)
        program = os.open(program_path, os.O_RDONLY)
        argv = [options.launcher, "--task-root", task, "--sandbox", "--seccomp-program", str(program), "--",
                "/var/task/bootstrap"]
        rows = []
        for parallel in [int(p) for p in options.parallel.split(",")]:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started_at = time.perf_counter()
            running, started, failed = [], 0, 0
            while started < options.count or running:
                while started < options.count and len(running) < parallel:
                    running.append(subprocess.Popen(argv, pass_fds=(program,)))
                    started += 1
                if running[0].wait(timeout=60) != 0:
                    failed += 1
                running.pop(0)
            wall = time.perf_counter() - started_at
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            rows.append({"parallel": parallel, "starts_per_s": round(options.count / wall, 1),
                         "cpu_ms_per_start": round(cpu / options.count * 1000, 2), "failed": failed})
        json.dump({"launcher": options.launcher, "count": options.count, "load_average": os.getloadavg()[0],
                   "runs": rows}, sys.stdout, indent=2)
        print()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
