"""Keep the AWS SDK's and urllib3's own loggers above DEBUG, whatever the root logger's level.

At DEBUG, botocore logs every request and response body (GetSecretValue's `SecretString`: a
webhook URL is a credential) and urllib3 logs every request line (a Slack or Teams webhook's
path is its secret). Lambda's application log level DEBUG sets the root logger to DEBUG, so
each handler calls `quiet_library_loggers()` once, at import, before any client is made.
"""

from __future__ import annotations

import logging

# Loggers of libraries that print request or response bodies, URLs or headers at DEBUG.
LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
# The lowest level they may log at: INFO carries no bodies, URLs or headers.
LOWEST_LEVEL = logging.INFO


def quiet_library_loggers() -> None:
    """Set each library logger to INFO, or to the root logger's level when that is higher, so
    its DEBUG lines are never made, even if the root logger is lowered to DEBUG later.

    >>> quiet_library_loggers()
    >>> logging.getLogger("botocore.endpoint").isEnabledFor(logging.DEBUG)
    False
    """
    level = max(LOWEST_LEVEL, logging.getLogger().getEffectiveLevel())
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)
