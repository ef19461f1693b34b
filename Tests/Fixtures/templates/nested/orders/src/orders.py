import os


def handler(event, context):
    return {
        "function": context.function_name,
        "stage": os.environ.get("STAGE"),
        "table": os.environ.get("TABLE_NAME"),
        "stack": os.environ.get("STACK"),
    }
