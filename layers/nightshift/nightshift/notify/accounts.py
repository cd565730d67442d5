"""Which account a message is about, in the words of the policy's `targets`.

In hub and spoke (docs/organization.md) the hub's ops topic carries the events of every member
account: a message names the account's id (and its Region) in its context line, and where the
policy's `targets` list that account by id, this module adds the target's name, and whether it
is a production account, as the message's first fact. An OU's accounts are not named: the
notifier does not list OUs (the scheduler does, at each run, with its own permission). Without
`targets`, nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Protocol

from nightshift.notify.model import Fact, Notification, Source


class ListedTarget(Protocol):
    """What this module reads of a `nightshift.policy.targets.Target`."""

    @property
    def account(self) -> str | None: ...

    @property
    def name(self) -> str: ...

    @property
    def production(self) -> bool: ...


@dataclass(frozen=True)
class AccountName:
    name: str
    production: bool = False

    def describe(self, account: str) -> str:
        """>>> AccountName("prod-eu", production=True).describe("333333333333")
        'prod-eu (333333333333), production'
        """
        return f"{self.name} ({account})" + (", production" if self.production else "")


def account_names(targets: Iterable[ListedTarget]) -> Mapping[str, AccountName]:
    """The named accounts of the policy's targets (those listed by id with a `name`; a
    production target without a name is still marked production). The first entry for an
    account wins, as it does for the functions that act there.

    >>> from nightshift.policy.targets import Target
    >>> names = account_names([Target(account="222222222222", name="staging"),
    ...                        Target(ou="ou-ab12-cdef3456", name="workloads")])
    >>> dict(names)
    {'222222222222': AccountName(name='staging', production=False)}
    """
    names: dict[str, AccountName] = {}
    for target in targets:
        if target.account is None or target.account in names:
            continue
        if target.name or target.production:
            names[target.account] = AccountName(target.name or target.account, target.production)
    return MappingProxyType(names)


def named(n: Notification, names: Mapping[str, AccountName]) -> Notification:
    """`n` with its account's name as first fact, when the policy's targets name it.

    >>> from nightshift.notify.model import Severity, State
    >>> alarm = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.ALARM,
    ...     "ALARM: cpu", "cpu", "", (), (), "k", "", account="222222222222")
    >>> named(alarm, {"222222222222": AccountName("staging")}).facts
    (Fact(label='Account', value='staging (222222222222)'),)
    >>> named(alarm, {}) is alarm
    True
    """
    if n.source is Source.UNRECOGNISED or n.account is None:
        return n
    name = names.get(n.account)
    if name is None:
        return n
    return replace(n, facts=(Fact("Account", name.describe(n.account)), *n.facts))
