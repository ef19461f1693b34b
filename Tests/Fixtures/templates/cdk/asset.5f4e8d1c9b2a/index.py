import os

import shared


def handler(event, context):
    return {
        "greeting": os.environ["GREETING"],
        "shared": shared.VALUE,
        "function": context.function_name,
        "event": event,
    }
