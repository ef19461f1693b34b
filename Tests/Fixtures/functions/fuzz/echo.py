"""Fuzz-suite fixture: returns its event unchanged (the healthy invoke and the Invoke API target)."""


def handler(event, context):
    return {"echo": event}
