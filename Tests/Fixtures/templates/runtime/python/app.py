import os


def unicode(event, context):
    return {"text": "héllo ✓ 日本"}


def context(event, context):
    return {
        "arn": context.invoked_function_arn,
        "region": os.environ.get("AWS_REGION"),
        "default_region": os.environ.get("AWS_DEFAULT_REGION"),
        "greeting": os.environ.get("GREETING"),
        "from_file": os.environ.get("FROM_FILE"),
        "shared": os.environ.get("SHARED"),
        "undeclared": os.environ.get("UNDECLARED"),
    }
