"""Test fixture: an SQS event-source consumer that does what each message body tells it to.

Every SQS event is logged as one line ``RECORDED <json>``. A body that is a JSON object may say:
  {"fail": true}      report this message in batchItemFailures
  {"raise": true}     raise (the whole batch fails)
  {"garbage": true}   return a malformed partial batch response
  {"sleep": seconds}  sleep before answering
A direct invoke ({"sleep": seconds}, no Records) just sleeps: it holds a unit of concurrency.
"""

import json
import time


def handler(event, context):
    records = event.get("Records")
    if records is None:
        time.sleep(float(event.get("sleep", 0)))
        return {"slept": True}
    print("RECORDED " + json.dumps(event, separators=(",", ":")), flush=True)
    failures = []
    garbage = False
    for record in records:
        try:
            body = json.loads(record["body"])
        except ValueError:
            continue
        if not isinstance(body, dict):
            continue
        if body.get("sleep"):
            time.sleep(float(body["sleep"]))
        if body.get("raise"):
            raise RuntimeError("asked to fail the batch")
        if body.get("garbage"):
            garbage = True
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    if garbage:
        return {"batchItemFailures": "definitely not a list"}
    return {"batchItemFailures": failures}
