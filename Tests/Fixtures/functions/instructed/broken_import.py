"""Test fixture: importing this module fails (Runtime.ImportModuleError)."""

import does_not_exist_module_xyz  # noqa: F401


def handler(event, context):
    return {"unreachable": True}
