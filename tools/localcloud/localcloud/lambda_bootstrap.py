"""The runtime's entry point under the RIE: `python -m awslambdaric <handler>`, with the invoked
function's ARN Lambda would give.

The RIE hands every invocation the same made-up ARN (`arn:aws:lambda:us-east-1:012345678912:
function:<name>`), whatever the function's account and Region; Lambda gives the function's own.
A function that reads its account or Region from `context.invoked_function_arn` (the hub's
scheduler and redeploy do, to know which account and Region are the hub's) would see the wrong
ones. This file, run by path in the runtime's Python (the standard library and awslambdaric
only), takes the deployed function's ARN from LOCALCLOUD_FUNCTION_ARN (and removes it from the
environment the function sees), has awslambdaric's context carry it, and runs awslambdaric's
main as `python -m awslambdaric` would.
"""

import os
import runpy
import sys

# Run by path, Python put this file's folder first on sys.path; `python -m` puts the working
# directory there (the function's code), which is what the function imports from.
sys.path[0] = os.getcwd()

from awslambdaric import bootstrap  # noqa: E402

_ARN = os.environ.pop("LOCALCLOUD_FUNCTION_ARN", "")
_create_lambda_context = bootstrap.create_lambda_context


def _context_with_the_function_arn(*args, **kwargs):  # type: ignore[no-untyped-def]
    context = _create_lambda_context(*args, **kwargs)
    if _ARN:
        context.invoked_function_arn = _ARN
    return context


bootstrap.create_lambda_context = _context_with_the_function_arn

if __name__ == "__main__":
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
