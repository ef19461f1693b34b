"""Test fixture for coordinated omission (Tests/compat/test_load.py): answers at once, except that
the STALL_AT-th invocation of each worker process (default 20) sleeps STALL_SECONDS (default 2)
first. One stall per worker, so a load test at a fixed rate on one connection must show it in its
p99: every request scheduled during the stall waits behind it."""

import os
import time

_count = 0


def handler(event, context):
    global _count
    _count += 1
    if _count == int(os.environ.get("STALL_AT", "20")):
        time.sleep(float(os.environ.get("STALL_SECONDS", "2")))
    return {"n": _count}
