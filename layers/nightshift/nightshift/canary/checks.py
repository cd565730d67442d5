"""Typed canary checks, built from the policy's `canaries` section with every condition parsed.

A check that cannot be probed as written (an unparsable condition, a URL without a host, a
certificate condition on plain HTTP, two checks with one name) is a PolicyError at load time,
never a surprise during a run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from nightshift.canary.conditions import Condition, ConditionError, parse_condition
from nightshift.canary.parking import DEFAULT_HEALTHY_WITHIN, Dependency
from nightshift.errors import PolicyError
from nightshift.schedule.model import Schedule, schedules_of

if TYPE_CHECKING:
    from nightshift.policy.model import Policy

DEFAULT_TIMEOUT_MS = 5000
DEFAULT_METHOD = "GET"
DEFAULT_MINUTES = int(DEFAULT_HEALTHY_WITHIN.total_seconds() // 60)
# RFC 9110 token characters; anything else would be refused by http.client mid-run.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class Header:
    """A request header: a literal value, or the name of a Secrets Manager secret holding it."""

    name: str
    value: str | None = None
    secret: str | None = None


@dataclass(frozen=True)
class Check:
    """One HTTP(S) health check: where to probe, how, and the conditions it must meet."""

    name: str
    url: str
    conditions: tuple[Condition, ...]
    method: str = DEFAULT_METHOD
    headers: tuple[Header, ...] = ()
    body: str | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    ca_bundle: str | None = None  # PEM file of the CAs trusted instead of the system's
    # What a schedule parks under it (docs/canary.md, "Parked environments"); None: nothing,
    # either said (`depends_on: none`, `independent`) or not said at all.
    depends_on: Dependency | None = None
    independent: bool = False

    @property
    def https(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def target(self) -> str:
        """The request target: path and query, "/" when the URL has no path."""
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    @classmethod
    def build(cls, name: str, url: str, conditions: Sequence[str], **options: Any) -> Check:
        """A check from condition texts, for tests and code (the policy uses `from_section`).

        >>> Check.build("api", "https://api.example.com/health", ["[STATUS] == 200"]).port
        443
        """
        parsed = tuple(parse_condition(text, check=name) for text in conditions)
        return cls(name=name, url=url, conditions=parsed, **options)


def from_policy(policy: Policy, base_dir: str | None = None) -> tuple[Check, ...]:
    """The checks of `policy`'s `canaries` section (see `from_section`); `base_dir` is the policy
    file's folder."""
    return from_section(policy.section("canaries"), source=policy.source, base_dir=base_dir)


@dataclass(frozen=True)
class CanaryPolicy:
    """What the canary reads from the policy: its checks, and the schedules that checks with
    `depends_on` are judged by (`parking`)."""

    checks: tuple[Check, ...]
    schedules: Mapping[str, Schedule]


def canary_policy(policy: Policy, base_dir: str | None = None) -> CanaryPolicy:
    """The canary's part of a loaded policy (see `from_section` for the checks).

    >>> from nightshift.policy import parse_policy
    >>> canary_policy(parse_policy("version: 1")).checks
    ()
    """
    return CanaryPolicy(from_policy(policy, base_dir), schedules_of(policy))


def from_section(
    section: Sequence[Mapping[str, Any]] | None,
    *,
    source: str = "<policy>",
    base_dir: str | None = None,
) -> tuple[Check, ...]:
    """Typed checks from the schema-validated `canaries` section; validates every condition.

    `base_dir` is the policy file's folder: a relative `ca_bundle` is resolved against it.

    >>> [c.name for c in from_section([{"name": "api", "url": "http://app/health",
    ...                                 "conditions": ["[STATUS] == 200"]}])]
    ['api']
    """
    checks: list[Check] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(section or ()):
        where = f"canaries[{index}]"
        name = str(entry["name"])
        if name in seen:
            raise PolicyError(
                source,
                f"{where}.name",
                f"duplicate check name {name!r} (also canaries[{seen[name]}])",
            )
        seen[name] = index
        check = Check(
            name=name,
            url=_url(entry["url"], source, f"{where}.url"),
            conditions=tuple(_conditions(entry["conditions"], name, source, where)),
            method=str(entry.get("method", DEFAULT_METHOD)),
            headers=tuple(_headers(entry.get("headers") or {}, source, f"{where}.headers")),
            body=entry.get("body"),
            timeout_ms=int(entry.get("timeout_ms", DEFAULT_TIMEOUT_MS)),
            ca_bundle=_ca_bundle(entry.get("ca_bundle"), base_dir),
            depends_on=_dependency(entry.get("depends_on"), source, f"{where}.depends_on"),
            independent=entry.get("depends_on") == "none",
        )
        for position, condition in enumerate(check.conditions):
            if condition.concerns_certificate and not check.https:
                raise PolicyError(
                    source,
                    f"{where}.conditions[{position}]",
                    f"check {name!r}: [CERTIFICATE_EXPIRATION] needs an https:// URL",
                )
        checks.append(check)
    return tuple(checks)


def _url(url: str, source: str, path: str) -> str:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError as exc:
        raise PolicyError(source, path, f"invalid port in {url!r}") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PolicyError(
            source, path, f"expected an http:// or https:// URL with a host, got {url!r}"
        )
    try:
        parts.hostname.encode("idna")
    except UnicodeError as exc:
        raise PolicyError(source, path, f"invalid host name in {url!r}") from exc
    if parts.fragment or parts.username or parts.password:
        raise PolicyError(
            source, path, "credentials and #fragments do not belong in the URL; use headers"
        )
    return url


def _conditions(texts: Iterable[str], check: str, source: str, where: str) -> Iterable[Condition]:
    for position, text in enumerate(texts):
        try:
            yield parse_condition(text, check=check)
        except ConditionError as exc:
            raise exc.located(
                check=check, source=source, path=f"{where}.conditions[{position}]"
            ) from exc


def _headers(spec: Mapping[str, Any], source: str, path: str) -> Iterable[Header]:
    for name, value in spec.items():
        if not _HEADER_NAME.fullmatch(name):
            raise PolicyError(source, f"{path}.{name}", "is not a valid HTTP header name")
        if isinstance(value, Mapping):
            yield Header(name=name, secret=str(value["secret"]))
            continue
        if "\r" in value or "\n" in value:
            raise PolicyError(source, f"{path}.{name}", "a header value cannot contain line breaks")
        yield Header(name=name, value=str(value))


def _dependency(spec: Any, source: str, path: str) -> Dependency | None:
    """`depends_on`: {schedule: <name>} (with the `account` and `region` it parks in, in hub and
    spoke) or {tags: {...}}, with `healthy_within_minutes`;
    `none` says the check probes nothing a schedule parks. The schema checks the shape, the
    loader that the schedule exists (`reference_mistakes`)."""
    if not isinstance(spec, Mapping):
        return None
    if ("schedule" in spec) == ("tags" in spec):
        raise PolicyError(source, path, "needs exactly one of `schedule` or `tags`")
    if "tags" in spec and ("account" in spec or "region" in spec):
        raise PolicyError(
            source,
            path,
            "`account` and `region` go with `schedule` only: resources by tag are looked up in "
            "the hub's own account and Region",
        )
    within = dt.timedelta(minutes=int(spec.get("healthy_within_minutes", DEFAULT_MINUTES)))
    if "schedule" in spec:
        return Dependency(
            schedule=str(spec["schedule"]),
            healthy_within=within,
            account=spec.get("account"),
            region=spec.get("region"),
        )
    tags = tuple(sorted((str(k), str(v)) for k, v in spec["tags"].items()))
    return Dependency(tags=tags, healthy_within=within)


def _ca_bundle(value: str | None, base_dir: str | None) -> str | None:
    if value is None or base_dir is None or PurePosixPath(value).is_absolute():
        return value
    return str(PurePosixPath(base_dir) / value)
