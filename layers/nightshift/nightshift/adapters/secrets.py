"""Webhook URLs and header secrets from Secrets Manager, through Powertools Parameters (cached).

Powertools Parameters is imported, and its SecretsProvider made, at the first secret read, not
at import: a canary whose checks send no header secret never loads it (cold start,
tests/unit/test_cold_start.py)."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from nightshift.errors import ConfigurationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

# How long a secret is cached in the warm Lambda; rotation reaches us within this time.
SECRET_MAX_AGE_SECONDS = 300


# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset(
    {
        "secretsmanager:GetSecretValue",
    }
)


class SecretReader:
    """Reads secret strings by name. The secret is either the value itself or a JSON object
    holding it under `url` (for webhooks) or `value`. One SecretsProvider (and its cache) per
    reader, shared by the threads that read through it (the canary's probes)."""

    def __init__(self) -> None:
        self._provider: SecretsProvider | None = None
        self._lock = threading.Lock()

    def webhook_url(self, name: str) -> str:
        value = self._read(name)
        if value.startswith("{"):
            try:
                document = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigurationError(f"secret {name} is neither a URL nor JSON") from exc
            value = str(document.get("url") or document.get("value") or "")
        if not value.startswith(("https://", "http://")):
            # Never echo the value: it is a credential.
            raise ConfigurationError(f"secret {name} does not hold a webhook URL")
        return value

    def value(self, name: str) -> str:
        """A secret value, e.g. a canary's header: the secret string itself, or the `value` field
        of a JSON secret. Thread-safe enough for the canary's probe threads (a dict cache)."""
        value = self._read(name)
        if value.startswith("{"):
            try:
                document = json.loads(value)
            except json.JSONDecodeError:
                document = None
            if isinstance(document, dict):
                if not isinstance(document.get("value"), str):
                    raise ConfigurationError(f"secret {name} is JSON without a `value` string")
                value = document["value"].strip()
        if not value or "\r" in value or "\n" in value:
            # Never echo the value: it is a credential.
            raise ConfigurationError(f"secret {name} is empty or holds a line break")
        return value

    def _read(self, name: str) -> str:
        from aws_lambda_powertools.utilities import parameters  # at the first read (see above)

        with self._lock:  # one provider (one client, one cache) for every thread
            if self._provider is None:
                self._provider = parameters.SecretsProvider()
            provider = self._provider
        try:
            value = provider.get(name, max_age=SECRET_MAX_AGE_SECONDS)
        except parameters.GetParameterError as exc:
            raise ConfigurationError(f"secret {name} cannot be read: {exc}") from exc
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return str(value).strip()
