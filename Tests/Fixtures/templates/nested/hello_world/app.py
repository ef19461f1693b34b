import os


def lambda_handler(event, context):
    return {"orders_function": os.environ["ORDERS_FUNCTION"], "orders_table": os.environ["ORDERS_TABLE"]}
