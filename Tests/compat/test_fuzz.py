"""The short fuzz run (Tests/fuzz/fuzz.py, 500 requests per surface, seed 1): hostile requests on the
Invoke API, the control-plane APIs, the SQS JSON protocol and a worker's Runtime API never crash or
hang the host, never get a 5xx, leak no worker and do not grow the host's RSS by more than 20 MB.
The full run (10,000 per surface) is the documented command in Tests/fuzz/README.md."""

from __future__ import annotations

import json
import sys

from conftest import FNHOST_BIN, REPO

sys.path.insert(0, str(REPO / "Tests" / "fuzz"))

import fuzz  # noqa: E402


def test_short_fuzz_run_finds_no_crash_hang_5xx_leak_or_growth(tmp_path):
    failures = tmp_path / "fuzz-failures.jsonl"
    summary = fuzz.run(fuzz.parse([
        "--requests", "500", "--seed", "1", "--fnhost", str(FNHOST_BIN),
        "--state-dir", str(tmp_path / "host"), "--failures", str(failures)]))
    for name in fuzz.SURFACES:
        surface = summary["surfaces"][name]
        # Every request was sent and judged (the Runtime API's through the hostile worker's reports).
        assert surface["sent"] + surface["unreported"] == 500, (name, surface)
    assert summary["ok"], (
        f"{summary['problems']}\nfirst offending requests (all in {failures}; "
        f"replay: python3 Tests/fuzz/fuzz.py --replay {failures}):\n"
        + json.dumps(summary.get("first_failures"), indent=1)[:6000])
