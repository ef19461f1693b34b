"""Test fixture: records every event it gets as one line ``RECORDED <json>`` in its log."""

import json


def handler(event, context):
    print("RECORDED " + json.dumps(event, separators=(",", ":")), flush=True)
    return {"recorded": True}
