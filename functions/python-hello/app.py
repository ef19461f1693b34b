import json
import logging

logger = logging.getLogger()


def handler(event, context):
    """Greets whoever the event names, and says where it ran."""
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    logger.info("greeting %s", name)
    return {
        "message": f"Hello, {name}!",
        "requestId": context.aws_request_id,
        "function": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
    }
