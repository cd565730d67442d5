"""The redeploy section of the policy, with the protect rule, as one typed model.

ECS tag values may only hold letters, digits, spaces and `_ . : / = + - @`, so a glob such as
`main-*` cannot be written into the `nightshift:redeploy` tag of an ECS service. A service names
either a tag literally (`nightshift:redeploy=latest`) or a glob defined in git under
`redeploy.follow` (`nightshift:redeploy=main` with `follow: {main: "main-*"}`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from types import MappingProxyType

from nightshift.errors import PolicyError
from nightshift.policy import DEFAULT_PROTECT, Policy, ProtectRule, Targets

SECTION = "redeploy"
# A release version, as semantic versioning writes it, with an optional `v`. Pre-releases
# (`v2.0.0-rc.1`) are not releases: production waits for the release tag unless the policy says
# otherwise. Build metadata (`+…`) cannot occur, `+` is not allowed in image tags.
_RELEASE_VERSION = re.compile(r"v?(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)")


class PatternKind(StrEnum):
    GLOB = "glob"
    RELEASE_VERSION = "release-version"


_MATCHERS: Mapping[PatternKind, Callable[[str, str], bool]] = MappingProxyType(
    {
        PatternKind.GLOB: lambda pattern, tag: fnmatchcase(tag, pattern),
        PatternKind.RELEASE_VERSION: lambda _, tag: _RELEASE_VERSION.fullmatch(tag) is not None,
    }
)


@dataclass(frozen=True)
class TagPattern:
    """Which image tags something follows.

    A push without a tag matches only a glob that matches every tag (`*`).

    >>> TagPattern.glob("main-*").matches("main-4f1c2e7")
    True
    >>> RELEASE_VERSIONS.matches("v1.2.3"), RELEASE_VERSIONS.matches("v1.2.3-rc.1")
    (True, False)
    """

    kind: PatternKind
    pattern: str = ""

    @classmethod
    def glob(cls, pattern: str) -> TagPattern:
        return cls(PatternKind.GLOB, pattern)

    def matches(self, tag: str | None) -> bool:
        if tag is None:
            return self.kind is PatternKind.GLOB and fnmatchcase("", self.pattern)
        return _MATCHERS[self.kind](self.pattern, tag)

    def __str__(self) -> str:
        return self.pattern if self.kind is PatternKind.GLOB else "release versions (v1.2.3)"


RELEASE_VERSIONS = TagPattern(PatternKind.RELEASE_VERSION)
# A held redeploy waits this long for its approval, then expires (docs/redeploy.md).
APPROVAL_WINDOW_HOURS = 24


@dataclass(frozen=True)
class ApprovalRule:
    """Which redeploys wait for a person's approval: every one of a production service
    (`production`), and those of services following one of `follow`'s names.

    >>> rule = ApprovalRule(production=True)
    >>> rule.holds({"Environment": "prod"}, "release", DEFAULT_PROTECT)
    'production service (Environment=prod) needs approval'
    >>> rule.holds({"Environment": "staging"}, "main", DEFAULT_PROTECT) is None
    True
    """

    production: bool = False
    follow: frozenset[str] = frozenset()

    def holds(self, tags: Mapping[str, str], follows: str, protect: ProtectRule) -> str | None:
        """Why a redeploy of a service with these tags, following `follows`, waits for an
        approval; None when it does not."""
        if self.production and protect.protects(tags):
            return f"production service ({protect.tag}={tags.get(protect.tag)}) needs approval"
        if follows in self.follow:
            return f"services following {follows} need approval"
        return None


@dataclass(frozen=True)
class RedeployPolicy:
    """How redeploy gates: what production is, what production may follow, named globs.

    >>> rules = RedeployPolicy(follow={"main": "main-*"})
    >>> str(rules.pattern_for("main")), str(rules.pattern_for("latest"))
    ('main-*', 'latest')
    """

    protect: ProtectRule = DEFAULT_PROTECT
    production_tags: TagPattern = RELEASE_VERSIONS
    follow: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    dry_run: bool = False
    targets: Targets | None = None  # None: the hub's own account and Region
    approval: ApprovalRule = ApprovalRule()

    @classmethod
    def from_policy(cls, policy: Policy) -> RedeployPolicy:
        """The model of a validated policy's `protect` and `redeploy` sections."""
        section = policy.section(SECTION) or {}
        production = section.get("production_tags")
        approval = section.get("approval")
        if approval is not None and not approval.get("production") and not approval.get("follow"):
            raise PolicyError(
                policy.source,
                f"{SECTION}.approval",
                "holds nothing: set production: true or list names under follow",
            )
        return cls(
            protect=policy.protect,
            production_tags=TagPattern.glob(production) if production else RELEASE_VERSIONS,
            follow=MappingProxyType(dict(section.get("follow") or {})),
            dry_run=bool(section.get("dry_run", False)),
            targets=policy.targets,
            approval=ApprovalRule(
                production=bool((approval or {}).get("production", False)),
                follow=frozenset((approval or {}).get("follow") or ()),
            ),
        )

    def pattern_for(self, follows: str) -> TagPattern:
        """The pattern a `nightshift:redeploy=<follows>` tag stands for."""
        return TagPattern.glob(self.follow.get(follows, follows))
