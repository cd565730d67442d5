"""The pruner's settings: what the template sets (environment variables) and the policy's
`retention`, `protect` and `pruner` sections, merged into what one run acts on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nightshift.errors import ConfigurationError
from nightshift.retention.rules import PrunerSettings, RetentionPolicy
from nightshift.settings import CommonSettings, flag, required

if TYPE_CHECKING:
    from nightshift.policy import Policy, ProtectRule, Targets

# Template parameter (environment variable) -> the policy's `pruner.prices` key it provides.
PRICE_VARIABLES = {
    "NIGHTSHIFT_PRUNER_PRICE_EBS_SNAPSHOT": "ebs_snapshot",
    "NIGHTSHIFT_PRUNER_PRICE_RDS_SNAPSHOT": "rds_snapshot",
    "NIGHTSHIFT_PRUNER_PRICE_AURORA_SNAPSHOT": "aurora_snapshot",
}


@dataclass(frozen=True)
class PrunerEnvironment:
    """What the template sets: the common settings, the deployment's dry-run switch
    (parameter PrunerDryRun) and storage prices for the savings estimate (USD per GiB-month)."""

    common: CommonSettings
    dry_run: bool
    prices: Mapping[str, float]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PrunerEnvironment:
        prices: dict[str, float] = {}
        for variable, key in PRICE_VARIABLES.items():
            try:
                prices[key] = float(required(variable, environ))
            except ValueError as exc:
                raise ConfigurationError(
                    f"environment variable {variable} must be a number"
                ) from exc
        return cls(
            common=CommonSettings.from_environ(environ),
            dry_run=flag("NIGHTSHIFT_PRUNER_DRY_RUN", environ),
            prices=prices,
        )


@dataclass(frozen=True)
class PrunerPolicy:
    """What a run acts on: the retention rules, the protections, the `pruner` options (prices:
    the policy's own where it sets them, the deployment's parameters otherwise) and whether the
    deployment or the policy asks for dry runs only."""

    rules: RetentionPolicy
    protect: ProtectRule
    options: PrunerSettings
    dry_run: bool
    targets: Targets | None = None  # None: the hub's own account and Region

    @classmethod
    def from_policy(cls, policy: Policy, environment: PrunerEnvironment) -> PrunerPolicy:
        section = dict(policy.section("pruner") or {})
        section["prices"] = {**environment.prices, **(section.get("prices") or {})}
        options = PrunerSettings.from_section(section)
        return cls(
            rules=RetentionPolicy.from_policy(policy),
            protect=policy.protect,
            options=options,
            dry_run=environment.dry_run or options.dry_run,
            targets=policy.targets,
        )


__all__ = ["PRICE_VARIABLES", "PrunerEnvironment", "PrunerPolicy", "PrunerSettings"]
