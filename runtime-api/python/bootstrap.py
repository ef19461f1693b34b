"""fnhost managed Python runtime: the script the host starts (the runtime is
``fnhost_lambda_runtime``, beside this file).

Only an entry point, because a script is compiled at every start while an imported
module loads from bytecode compiled once: that is ~7 ms of every cold start.
"""

import sys

import fnhost_lambda_runtime

sys.exit(fnhost_lambda_runtime.main())
