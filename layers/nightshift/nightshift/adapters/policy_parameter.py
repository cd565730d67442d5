"""The policy this deployment runs: one version of the team's SSM parameter (template parameter
PolicySource), or the file in the policy layer when no parameter is named.

Read through Powertools Parameters' SSMProvider. A pinned version never changes, so it is cached
for the life of the warm container; the text is validated like a file (`parse_policy`).
Powertools Parameters is imported only when a parameter is read: a deployment that runs the
layer's file does not load it at all.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from nightshift.errors import PolicyError
from nightshift.policy import Policy, PolicyParameter, load_policy, load_policy_parameter

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    from nightshift.settings import CommonSettings

# The IAM actions this module needs: the one parameter PolicySource names (PolicySourceReadPolicy).
IAM_ACTIONS = frozenset({"ssm:GetParameter"})

# A version's text is immutable: keep it as long as the container lives (Powertools' max_age).
VERSION_MAX_AGE_SECONDS = 24 * 3600


class PolicyParameterReader:
    """`read(reference)` for `load_policy_parameter`: GetParameter `<name>:<version>`."""

    def __init__(self, provider: SSMProvider | None = None) -> None:
        self._provider = provider

    def __call__(self, reference: str) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        provider = self._provider or _default_provider()
        try:
            value = provider.get(reference, max_age=VERSION_MAX_AGE_SECONDS)
        except GetParameterError as exc:
            # e.g. ParameterNotFound, ParameterVersionNotFound, AccessDenied: named in the text.
            raise PolicyError(f"ssm:{reference}", "(parameter)", f"cannot be read: {exc}") from exc
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return str(value)


@cache
def _default_provider() -> SSMProvider:
    """One provider (and its cache) per container, made on first use."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider()


def load_deployed_policy(
    settings: CommonSettings, read: PolicyParameterReader | None = None
) -> Policy:
    """The policy of this deployment: `settings.policy_parameter` when set, else the layer file.

    Raises PolicyError naming the source when it cannot be read or is invalid.
    """
    if settings.policy_parameter:
        parameter = PolicyParameter.parse(settings.policy_parameter)
        return load_policy_parameter(parameter, read or PolicyParameterReader())
    return load_policy(settings.policy_file)
