"""Which (account, Region) a function works in a run, and through which role: a pure function of
the policy's targets, the hub's own account and Region, and the accounts of the OUs the targets
name (listed by an adapter beforehand).

- no `targets`: one item, the hub's own account and Region, with no role (the function's own
  credentials: exactly a single-account install);
- each target's account (or each account of its OU) x each of its Regions (default: the hub's),
  for the targets where `function` acts; a production target never gets the scheduler or the
  pruner (`Target.acts`), and is said so in `excluded`;
- an account named by its own entry and in a listed OU is worked once, with its own entry's
  settings; if any entry naming it is production, it is production;
- every item in a member account, the hub's own included when it is a target, goes through the
  spoke role `nightshift-spoke-<function>-<environment>` (spoke.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from nightshift.policy import Target, Targets


def spoke_role_name(function: str, environment: str) -> str:
    """The name spoke.yaml gives the role `function` assumes in a member account.

    >>> spoke_role_name("scheduler", "staging")
    'nightshift-spoke-scheduler-staging'
    """
    return f"nightshift-spoke-{function}-{environment}"


@dataclass(frozen=True)
class WorkItem:
    """One account x Region a function works in; `role_arn` None: with its own credentials;
    `production`: the target says so (only redeploy acts there, gated to release versions)."""

    account: str
    region: str
    role_arn: str | None = None
    name: str = ""
    production: bool = False

    @property
    def label(self) -> str:
        """How reports name the target: `staging 111122223333 eu-west-1`."""
        return " ".join(part for part in (self.name, self.account, self.region) if part)


@dataclass(frozen=True)
class Expansion:
    """The work items of one run, and the targets left out, each with its reason."""

    items: tuple[WorkItem, ...]
    excluded: tuple[str, ...] = ()


def expand_targets(
    targets: Targets | None,
    function: str,
    *,
    hub_account: str,
    hub_region: str,
    environment: str,
    ou_accounts: Mapping[str, Sequence[str]] | None = None,
    partition: str = "aws",
) -> Expansion:
    """The (account, Region, role) items `function` works, in the policy's order.

    >>> from nightshift.policy import Target, Targets  # noqa: TC001 - used at run time
    >>> targets = Targets((Target(account="111122223333", name="staging",
    ...                           regions=("eu-central-1", "eu-west-1")),
    ...                    Target(account="444455556666", name="prod", production=True)))
    >>> run = expand_targets(targets, "scheduler", hub_account="999988887777",
    ...                      hub_region="eu-central-1", environment="staging")
    >>> [item.label for item in run.items]
    ['staging 111122223333 eu-central-1', 'staging 111122223333 eu-west-1']
    >>> run.items[0].role_arn
    'arn:aws:iam::111122223333:role/nightshift-spoke-scheduler-staging'
    >>> run.excluded
    ('prod 444455556666: production: the scheduler never acts there',)
    >>> (hub,) = expand_targets(None, "scheduler", hub_account="999988887777",
    ...                         hub_region="eu-central-1", environment="staging").items
    >>> hub.account, hub.region, hub.role_arn
    ('999988887777', 'eu-central-1', None)
    """
    if targets is None:
        return Expansion((WorkItem(hub_account, hub_region),))
    listed = ou_accounts or {}
    # Each account once: its own entry first, else the first OU entry that holds it.
    chosen: dict[str, Target] = {}
    production: set[str] = set()
    for entry in targets.entries:
        if entry.account is not None:
            chosen[entry.account] = entry
    for entry in targets.entries:
        accounts = [entry.account] if entry.account is not None else listed.get(entry.ou or "", ())
        for account in accounts:
            chosen.setdefault(account, entry)
            if entry.production:
                production.add(account)
    items: list[WorkItem] = []
    excluded: list[str] = []
    role = spoke_role_name(function, environment)
    for account, entry in chosen.items():
        name = entry.name if entry.account is not None else (entry.name or entry.ou or "")
        if account in production and not entry.production:
            entry = replace(entry, production=True)
        if not entry.acts(function):
            why = "production" if entry.production else f"functions: {sorted(entry.functions)}"
            excluded.append(f"{name} {account}: {why}: the {function} never acts there".strip())
            continue
        for region in entry.regions or (hub_region,):
            arn = f"arn:{partition}:iam::{account}:role/{role}"
            items.append(WorkItem(account, region, arn, name, entry.production))
    for entry in targets.entries:
        if entry.ou is not None and entry.ou not in listed:
            excluded.append(f"{entry.label}: the OU's accounts were not listed")
    return Expansion(tuple(items), tuple(excluded))
