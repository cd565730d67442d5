"""X-Ray tracing through Powertools' Tracer, built only when tracing is on.

Constructing a Tracer imports the X-Ray SDK (`aws_xray_sdk.core`, about 100 ms of a cold
start), even with `POWERTOOLS_TRACE_DISABLED` set. So a handler does not build one at import:
`traced_handler` and `traced_method` wrap with the Tracer's own decorators when tracing is on,
and return the function unchanged when the environment turns it off (the template's `Tracing`
parameter sets `POWERTOOLS_TRACE_DISABLED`). Elsewhere (locally, under SAM CLI, in the tests)
the Tracer decides itself, as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any, cast

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.shared.functions import strtobool

DISABLED_VARIABLE = "POWERTOOLS_TRACE_DISABLED"


def tracing_disabled(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the environment turns tracing off, read as Powertools reads it.

    >>> tracing_disabled({"POWERTOOLS_TRACE_DISABLED": "true"}), tracing_disabled({})
    (True, False)
    """
    return strtobool(environ.get(DISABLED_VARIABLE, "false"))


@cache
def tracer() -> Tracer | None:
    """The one Tracer of this process, or None when tracing is off."""
    if tracing_disabled():
        return None
    return Tracer()


def traced_handler[F: Callable[..., Any]](handler: F) -> F:
    """`Tracer.capture_lambda_handler` when tracing is on; the handler itself otherwise."""
    active = tracer()
    return handler if active is None else cast(F, active.capture_lambda_handler(handler))


def traced_method[F: Callable[..., Any]](method: F) -> F:
    """`Tracer.capture_method` when tracing is on; the method itself otherwise."""
    active = tracer()
    return method if active is None else active.capture_method(method)
