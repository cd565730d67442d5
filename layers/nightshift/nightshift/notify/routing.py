"""Where a notification goes: the policy's `notify` section as a typed model, and the routes.

Routes are tried in order. A route matches when every criterion it states holds (`source`,
`severity`, `name_prefix`; any listed value will do) and a route that states none matches
everything. The first match wins unless it says `continue: true`, in which case the routes after
it are tried too. The destinations of all matching routes are returned once each, in order.

No message is dropped: a message no route matches goes to the `fallback` destination, and a
policy whose routes have neither a catch-all route (one without `match` criteria) nor a
fallback is refused when it is loaded.

A route with `deliver: digest` sends the routine messages it matches to its destinations in
the daily digest (`notify.digest`: when, in which time zone; `nightshift.notify.digest`). A
page is sent at once whatever its route says, and a destination that any matching route wants
at once gets the message at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from nightshift.errors import PolicyError
from nightshift.notify.digest import DigestSchedule, routine
from nightshift.notify.model import Notification, Severity, Source

DEFAULT_REPEAT_WINDOW = timedelta(minutes=60)
_SECTION = "<policy notify section>"


class Deliver(StrEnum):
    """How a route delivers: at once (the default), or in the daily digest (routine only)."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"


class DestinationType(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    EMAIL = "email"


@dataclass(frozen=True)
class Destination:
    """A named place messages go: a webhook URL kept in Secrets Manager (`secret`, for Slack and
    Teams) or an SNS topic with email subscriptions (`topic_arn`)."""

    name: str
    type: DestinationType
    secret: str | None = None
    topic_arn: str | None = None


@dataclass(frozen=True)
class RouteMatch:
    """What a route matches; an empty criterion matches everything."""

    sources: frozenset[Source] = frozenset()
    severities: frozenset[Severity] = frozenset()
    name_prefixes: tuple[str, ...] = ()

    def matches(self, n: Notification) -> bool:
        return (
            (not self.sources or n.source in self.sources)
            and (not self.severities or n.severity in self.severities)
            and (not self.name_prefixes or n.name.startswith(self.name_prefixes))
        )

    def describe(self) -> str:
        """>>> RouteMatch(severities=frozenset({Severity.CRITICAL})).describe()
        'severity critical'
        """
        parts: list[tuple[str, list[str]]] = [
            ("source", sorted(s.value for s in self.sources)),
            ("severity", sorted(s.value for s in self.severities)),
            ("name_prefix", list(self.name_prefixes)),
        ]
        stated = [f"{key} {'|'.join(values)}" for key, values in parts if values]
        return ", ".join(stated) or "everything"


@dataclass(frozen=True)
class Route:
    position: int
    match: RouteMatch
    to: tuple[str, ...]
    keep_going: bool = False  # the policy's `continue: true`
    deliver: Deliver = Deliver.IMMEDIATE


@dataclass(frozen=True)
class RoutingDecision:
    """Send at once to `destinations`; keep for the digest of each of `digest`."""

    destinations: tuple[str, ...]
    reason: str
    fallback: bool = False  # no route matched: the destinations are the policy's fallback
    digest: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotifyPolicy:
    destinations: Mapping[str, Destination] = field(default_factory=lambda: MappingProxyType({}))
    routes: tuple[Route, ...] = ()
    repeat_window: timedelta = DEFAULT_REPEAT_WINDOW
    fallback: str | None = None
    digest: DigestSchedule | None = None  # None: no route may say `deliver: digest`

    @classmethod
    def from_section(cls, section: Mapping[str, Any], source: str = _SECTION) -> NotifyPolicy:
        """The model of a schema-validated `notify` section; `{}` (no section) routes nowhere.
        PolicyError (naming `source`, the policy file) when routes could leave a message with
        no destination.

        >>> policy = NotifyPolicy.from_section({
        ...     "destinations": {"oncall": {"type": "slack", "secret": "nightshift/slack"}},
        ...     "routes": [{"match": {"severity": ["critical"]}, "to": ["oncall"]}],
        ...     "fallback": "oncall", "repeat_window_minutes": 30})
        >>> policy.destinations["oncall"].type.value, policy.repeat_window.seconds
        ('slack', 1800)
        """
        destinations = {
            name: Destination(
                name=name,
                type=DestinationType(spec["type"]),
                secret=spec.get("secret"),
                topic_arn=spec.get("topic_arn"),
            )
            for name, spec in (section.get("destinations") or {}).items()
        }
        routes = tuple(
            _route(position, route, destinations)
            for position, route in enumerate(section.get("routes") or ())
        )
        minutes = section.get("repeat_window_minutes")
        fallback = section.get("fallback")
        _check_nothing_dropped(routes, fallback, destinations, source)
        return cls(
            destinations=MappingProxyType(destinations),
            routes=routes,
            repeat_window=DEFAULT_REPEAT_WINDOW if minutes is None else timedelta(minutes=minutes),
            fallback=fallback,
            digest=_digest(section.get("digest"), routes, source),
        )

    def route(self, n: Notification) -> RoutingDecision:
        """The destinations for `n`, and which routes chose them.

        >>> from nightshift.notify.model import State
        >>> policy = NotifyPolicy.from_section({
        ...     "destinations": {"oncall": {"type": "slack", "secret": "s1"},
        ...                      "ops": {"type": "teams", "secret": "s2"}},
        ...     "routes": [{"match": {"severity": ["critical"]}, "to": ["oncall"],
        ...                 "continue": True}, {"to": ["ops", "oncall"]}]})
        >>> n = Notification(Source.BUDGET, Severity.CRITICAL, State.ALARM, "t", "b", "", (), (),
        ...                  "k", "")
        >>> decision = policy.route(n)
        >>> decision.destinations
        ('oncall', 'ops')
        >>> decision.reason
        'routes[0] (severity critical), routes[1] (everything) matched'
        """
        chosen: list[str] = []
        digested: list[str] = []
        matched: list[str] = []
        for route in self.routes:
            if not route.match.matches(n):
                continue
            matched.append(f"routes[{route.position}] ({route.match.describe()})")
            wants = digested if route.deliver is Deliver.DIGEST else chosen
            wants.extend(name for name in route.to if name not in wants)
            if not route.keep_going:
                break
        if not matched:
            reason = "no route matched" if self.routes else "the policy has no notify routes"
            if self.fallback is not None:
                return RoutingDecision((self.fallback,), f"{reason}: fallback", fallback=True)
            return RoutingDecision((), reason)
        reason = ", ".join(matched) + " matched"
        if digested:
            waits, why = routine(n)
            if not waits:
                reason += f"; not digested: {why}"
                chosen.extend(name for name in digested if name not in chosen)
                digested = []
            else:
                digested = [name for name in digested if name not in chosen]
                reason += f"; digest: {', '.join(digested)}" if digested else ""
        return RoutingDecision(tuple(chosen), reason, digest=tuple(digested))

    def destinations_for(self, n: Notification) -> tuple[str, ...]:
        """Destination names for `n` at once, each once, in route order."""
        return self.route(n).destinations


def _digest(
    spec: Mapping[str, Any] | None, routes: tuple[Route, ...], source: str
) -> DigestSchedule | None:
    """The section's `digest` (when and in which time zone it is sent); PolicyError when a
    route says `deliver: digest` and there is none, or its time zone is unknown."""
    digested = [r.position for r in routes if r.deliver is Deliver.DIGEST]
    if spec is None:
        if digested:
            raise PolicyError(
                source,
                f"notify.routes[{digested[0]}].deliver",
                "`deliver: digest` needs `notify.digest` (when it is sent), e.g. "
                '`digest: {at: "08:00", timezone: Europe/Berlin}`',
            )
        return None
    try:
        return DigestSchedule.parse(str(spec["at"]), str(spec.get("timezone", "UTC")))
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise PolicyError(
            source,
            "notify.digest",
            f"not a time of day and an IANA time zone ({spec!r}): {exc}",
        ) from exc


def _check_nothing_dropped(
    routes: tuple[Route, ...],
    fallback: str | None,
    destinations: Mapping[str, Destination],
    source: str,
) -> None:
    """Routes either catch everything or have a fallback; the fallback is a known destination."""
    if fallback is not None and fallback not in destinations:
        known = ", ".join(sorted(destinations)) or "none"
        raise PolicyError(
            source, "notify.fallback", f"unknown destination {fallback!r}; defined: {known}"
        )
    catch_all = any(route.match == RouteMatch() for route in routes)
    if routes and not catch_all and fallback is None:
        raise PolicyError(
            source,
            "notify.fallback",
            "no route catches every message (a route without `match`) and there is no "
            "fallback: a message no route matches would be dropped; add `fallback: "
            "<destination>` or a last route without `match`",
        )


def _route(position: int, spec: Mapping[str, Any], destinations: Mapping[str, Any]) -> Route:
    to = tuple(spec["to"])
    for name in to:
        if name not in destinations:
            known = ", ".join(sorted(destinations)) or "none"
            raise PolicyError(
                _SECTION,
                f"notify.routes[{position}].to",
                f"unknown destination {name!r}; defined: {known}",
            )
    match = spec.get("match") or {}
    return Route(
        position=position,
        match=RouteMatch(
            sources=frozenset(Source(value) for value in match.get("source", ())),
            severities=frozenset(Severity(value) for value in match.get("severity", ())),
            name_prefixes=tuple(match.get("name_prefix", ())),
        ),
        to=to,
        keep_going=bool(spec.get("continue", False)),
        deliver=Deliver(spec.get("deliver", Deliver.IMMEDIATE.value)),
    )
