def handler(event, context):
    """Echoes the event through awslambdaric."""
    if isinstance(event, dict) and "fail" in event:
        raise RuntimeError(event["fail"])
    return {"ric": True, "echo": event, "requestId": context.aws_request_id}
