import time


def handler(event, context):
    time.sleep(1.5)
    return {"debugged": True}
