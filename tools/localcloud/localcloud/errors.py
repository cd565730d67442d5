"""What can go wrong in the local cloud, as one small hierarchy the CLI turns into messages."""

from __future__ import annotations


class LocalCloudError(Exception):
    """Root of every error the local cloud raises on purpose; the message says what to do."""


class BuildMissingError(LocalCloudError):
    """`sam build` has not been run, so there are no artifacts to deploy."""


class ServerError(LocalCloudError):
    """The moto server could not be started or does not answer."""


class TemplateError(LocalCloudError):
    """The template uses something the local cloud cannot resolve or emulate."""


class RuntimeSetupError(LocalCloudError):
    """The runtime (Python 3.13 venv, Lambda RIE, artifacts) could not be prepared."""
