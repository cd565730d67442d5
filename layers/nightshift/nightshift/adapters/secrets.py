"""Webhook URLs and header secrets from Secrets Manager, through Powertools Parameters (cached)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

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
    holding it under `url` (for webhooks) or `value`."""

    def __init__(self, provider: SecretsProvider | None = None) -> None:
        self._provider = provider

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
        try:
            if self._provider is not None:
                value = self._provider.get(name, max_age=SECRET_MAX_AGE_SECONDS)
            else:
                value = parameters.get_secret(name, max_age=SECRET_MAX_AGE_SECONDS)
        except GetParameterError as exc:
            raise ConfigurationError(f"secret {name} cannot be read: {exc}") from exc
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return str(value).strip()
