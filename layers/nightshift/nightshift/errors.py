"""One root error, so a handler can tell our failures from bugs; subclasses say what went wrong."""

from __future__ import annotations


class NightshiftError(Exception):
    """Root of every error Nightshift raises on purpose."""


class ConfigurationError(NightshiftError):
    """A required setting is missing or malformed."""


class PolicyError(NightshiftError):
    """The policy file is missing, unreadable or invalid.

    The message names the file, the path to the field and what was expected.
    """

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path}: {problem}")


class EventError(NightshiftError):
    """An incoming event does not have the shape its source documents."""


class AwsError(NightshiftError):
    """An AWS call failed; `code` is AWS's error code, never parsed from the message."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        super().__init__(f"{operation} failed with {code}: {message}")

    @classmethod
    def from_client_error(cls, operation: str, exc: Exception) -> AwsError:
        """Translate botocore's ClientError, reading AWS's code from the response, not the text."""
        error = getattr(exc, "response", {}).get("Error", {})
        return cls(operation, error.get("Code", "Unknown"), error.get("Message", ""))

    @classmethod
    def from_botocore_error(cls, operation: str, exc: Exception) -> AwsError:
        """Translate a failure without an AWS answer (timeout, lost connection): the code is
        botocore's exception class, e.g. `ReadTimeoutError`; the call may have taken effect."""
        return cls(operation, type(exc).__name__, str(exc))


class DeliveryError(NightshiftError):
    """A notification could not be delivered to a destination; the message must be retried."""

    def __init__(self, destination: str, problem: str, retry_after: float | None = None) -> None:
        self.destination = destination
        self.retry_after = retry_after
        super().__init__(f"delivery to {destination} failed: {problem}")
