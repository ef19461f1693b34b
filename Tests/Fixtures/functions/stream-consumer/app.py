"""Test fixture: a Kinesis event-source consumer that does what each record's data tells it to.

Every event is logged as one line ``RECORDED <json>``. Record data that is a JSON object may say:
  {"fail": true}    report this record in batchItemFailures (its sequence number)
  {"raise": true}   raise (the whole batch fails)
  {"grow": N}       (in a tumbling window) add N characters of padding to the state (logged as
                    ``<N chars>``)
In a tumbling window it returns the window's state with ``count`` grown by the batch's records.
"""

import base64
import json


def handler(event, context):
    logged = event
    if isinstance(event.get("state"), dict) and "padding" in event["state"]:
        # Logged as its length: a line of over 1 MB would be cut by the host's log capture.
        logged = dict(event, state=dict(event["state"], padding=f"<{len(event['state']['padding'])} chars>"))
    print("RECORDED " + json.dumps(logged, separators=(",", ":")), flush=True)
    failures = []
    padding = 0
    for record in event["Records"]:
        try:
            data = json.loads(base64.b64decode(record["kinesis"]["data"]))
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        if data.get("raise"):
            raise RuntimeError("asked to fail the batch")
        if data.get("fail"):
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
        padding += int(data.get("grow", 0))
    if "window" in event:
        state = dict(event["state"], count=event["state"].get("count", 0) + len(event["Records"]))
        if padding:
            state["padding"] = "x" * padding
        return {"state": state, "batchItemFailures": failures}
    return {"batchItemFailures": failures}
