import time


def handler(event, context):
    """Sleeps longer than its 1-second Timeout, so every call times out."""
    time.sleep(5)
    return {"finished": True}
