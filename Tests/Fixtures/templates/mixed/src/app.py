def handler(event, context):
    return {"function": context.function_name, "event": event}
