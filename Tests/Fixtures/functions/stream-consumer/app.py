"""Test fixture: a Kinesis event-source consumer that does what each record's data tells it to.

Every event is logged as one line ``RECORDED <json>``. Record data that is a JSON object may say:
  {"fail": true}    report this record in batchItemFailures (its sequence number)
  {"raise": true}   raise (the whole batch fails)
In a tumbling window it returns the window's state with ``count`` grown by the batch's records.
"""

import base64
import json


def handler(event, context):
    print("RECORDED " + json.dumps(event, separators=(",", ":")), flush=True)
    failures = []
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
    if "window" in event:
        state = dict(event["state"], count=event["state"].get("count", 0) + len(event["Records"]))
        return {"state": state, "batchItemFailures": failures}
    return {"batchItemFailures": failures}
