"""The `retention` and `pruner` policy sections as typed, frozen rules.

The schema (policy/schema/retention.json, pruner.json) has already checked the shapes; this
module adds what a schema cannot say well: time zones that exist and rules that keep something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nightshift.errors import PolicyError
from nightshift.retention.model import Snapshot, SnapshotKind

if TYPE_CHECKING:
    from nightshift.policy import Policy

UTC_ZONE = ZoneInfo("UTC")
BUCKETS = ("last", "daily", "weekly", "monthly", "yearly")
DEFAULT_MAX_DELETE_SHARE = 0.5


@dataclass(frozen=True)
class KeepPolicy:
    """How many snapshots each bucket keeps per lineage (restic's --keep-* options).

    >>> KeepPolicy(last=3, daily=7).is_empty
    False
    >>> KeepPolicy().is_empty
    True
    """

    last: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0

    def __post_init__(self) -> None:
        for bucket, count in self.counts():
            if count < 0:
                raise ValueError(f"keep.{bucket} must not be negative")

    def counts(self) -> tuple[tuple[str, int], ...]:
        """(bucket, count) in restic's order: last, daily, weekly, monthly, yearly."""
        return tuple((bucket, getattr(self, bucket)) for bucket in BUCKETS)

    @property
    def is_empty(self) -> bool:
        return all(count == 0 for _, count in self.counts())

    def describe(self) -> str:
        parts = [f"{bucket} {count}" for bucket, count in self.counts() if count]
        return ", ".join(parts) or "nothing"


@dataclass(frozen=True)
class RetentionRule:
    """One entry of the `retention` section: which snapshots, and what to keep of them."""

    name: str
    kinds: frozenset[SnapshotKind]
    keep: KeepPolicy
    match_tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    max_age_days: int | None = None
    timezone: ZoneInfo = UTC_ZONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(SnapshotKind(k) for k in self.kinds))
        object.__setattr__(self, "match_tags", MappingProxyType(dict(self.match_tags)))

    def matches(self, snapshot: Snapshot) -> bool:
        """The rule selects the snapshot: right kind, and every tag in `match.tags` equal."""
        if snapshot.kind not in self.kinds:
            return False
        return all(snapshot.tags.get(key) == value for key, value in self.match_tags.items())

    @classmethod
    def from_section(
        cls, item: Mapping[str, Any], *, path: str, source: str = "<policy>"
    ) -> RetentionRule:
        """Build one rule from its validated policy entry; `path` locates it in errors."""
        keep = KeepPolicy(**{bucket: int(item["keep"].get(bucket, 0)) for bucket in BUCKETS})
        if keep.is_empty:
            raise PolicyError(
                source,
                f"{path}.keep",
                "keeps nothing: set at least one of last, daily, weekly, monthly, yearly above 0"
                " (an all-zero rule would delete every snapshot it matches)",
            )
        zone_name = item.get("timezone", "UTC")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PolicyError(
                source, f"{path}.timezone", f"unknown IANA time zone {zone_name!r}"
            ) from exc
        return cls(
            name=str(item["name"]),
            kinds=frozenset(SnapshotKind(kind) for kind in item["resources"]),
            keep=keep,
            match_tags=dict((item.get("match") or {}).get("tags") or {}),
            max_age_days=item.get("max_age_days"),
            timezone=zone,
        )


@dataclass(frozen=True)
class RetentionPolicy:
    """The `retention` section: rules in policy order (the first rule that keeps a snapshot
    gives its reason; a snapshot matched by several rules keeps what any of them keeps)."""

    rules: tuple[RetentionRule, ...] = ()

    @classmethod
    def from_section(
        cls, section: Sequence[Mapping[str, Any]] | None, source: str = "<policy>"
    ) -> RetentionPolicy:
        """Build the rules from the validated `retention` section (absent: no rules).

        >>> policy = RetentionPolicy.from_section(
        ...     [{"name": "db", "resources": ["rds-snapshot"], "keep": {"daily": 7}}])
        >>> policy.rules[0].keep.daily
        7
        """
        items = list(section or ())
        rules = tuple(
            RetentionRule.from_section(item, path=f"retention[{index}]", source=source)
            for index, item in enumerate(items)
        )
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            if rule.name in seen:
                raise PolicyError(
                    source, f"retention[{index}].name", f"duplicate rule name {rule.name!r}"
                )
            seen.add(rule.name)
        return cls(rules=rules)

    @classmethod
    def from_policy(cls, policy: Policy) -> RetentionPolicy:
        return cls.from_section(policy.section("retention"), policy.source)


@dataclass(frozen=True)
class StoragePrices:
    """USD per GiB-month of snapshot storage, used to estimate savings.

    Defaults are us-east-1 list prices (docs/pruner.md, "Savings"): EBS snapshot standard tier
    $0.05, RDS backup storage $0.095, Aurora backup storage $0.021.
    """

    ebs: float = 0.05
    rds: float = 0.095
    aurora: float = 0.021

    def per_gib_month(self, kind: SnapshotKind) -> float:
        return {
            SnapshotKind.EBS: self.ebs,
            SnapshotKind.RDS: self.rds,
            SnapshotKind.AURORA: self.aurora,
        }[kind]


@dataclass(frozen=True)
class PrunerSettings:
    """The `pruner` section: how the pruner acts."""

    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    prices: StoragePrices = field(default_factory=StoragePrices)
    dry_run: bool = False

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> PrunerSettings:
        """Build the settings from the validated `pruner` section (absent: defaults).

        >>> PrunerSettings.from_section({"max_delete_share": 0.2}).max_delete_share
        0.2
        """
        data = section or {}
        prices = data.get("prices") or {}
        defaults = StoragePrices()
        return cls(
            max_delete_share=float(data.get("max_delete_share", DEFAULT_MAX_DELETE_SHARE)),
            prices=StoragePrices(
                ebs=float(prices.get("ebs_snapshot", defaults.ebs)),
                rds=float(prices.get("rds_snapshot", defaults.rds)),
                aurora=float(prices.get("aurora_snapshot", defaults.aurora)),
            ),
            dry_run=bool(data.get("dry_run", False)),
        )

    @classmethod
    def from_policy(cls, policy: Policy) -> PrunerSettings:
        return cls.from_section(policy.section("pruner"))
