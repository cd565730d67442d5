"""Hub and spoke: a boto3 session per target, with the credentials of the spoke role the hub
assumes there (STS AssumeRole, once per role for the run, shared by its Regions), and the
accounts of the Organizations OUs a policy names.

A session per target, because a boto3 session is not safe to share between threads and each
target's clients are its own (their retries and rates too). Clients honour AWS_ENDPOINT_URL
(the local cloud) as the hub's own do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.errors import AwsError
from nightshift.fanout import Expansion, WorkItem, expand_targets

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

    from nightshift.policy import Targets

logger = Logger(child=True)

# The IAM actions this adapter's calls need (checked against the role; docs/iam.md).
IAM_ACTIONS = frozenset({"sts:AssumeRole", "organizations:ListAccountsForParent"})

RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 5})


@dataclass
class TargetSessions:
    """boto3 sessions for work items: the hub's own credentials for an item without a role,
    else the role's, assumed once per run (a role's session lasts an hour, the run minutes)."""

    session_name: str
    sts: STSClient | None = None
    _credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self, item: WorkItem) -> boto3.Session:
        if item.role_arn is None:
            return boto3.Session(region_name=item.region)
        credentials = self._assumed(item.role_arn)
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=item.region,
        )

    def _assumed(self, role_arn: str) -> dict[str, Any]:
        with self._lock:
            cached = self._credentials.get(role_arn)
            if self.sts is None:
                self.sts = boto3.client("sts", config=RETRIES)
            sts = self.sts
        if cached is not None:
            return cached
        try:
            answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=self.session_name)
        except ClientError as exc:
            raise AwsError.from_client_error("AssumeRole", exc) from exc
        except BotoCoreError as exc:
            raise AwsError.from_botocore_error("AssumeRole", exc) from exc
        credentials = dict(answer["Credentials"])
        with self._lock:
            self._credentials[role_arn] = credentials
        return credentials


@dataclass
class OrganizationAccounts:
    """The active accounts directly under each OU (or root) a policy names."""

    client: Any = None  # an Organizations client (no type stubs pinned for it)

    def accounts(self, parents: Iterable[str]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
        """The accounts of each parent, and an error line for each parent that could not be
        listed (left out of the run, the others worked)."""
        client = self.client or boto3.client("organizations", config=RETRIES)
        listed: dict[str, tuple[str, ...]] = {}
        errors: list[str] = []
        for parent in parents:
            try:
                pages = client.get_paginator("list_accounts_for_parent").paginate(ParentId=parent)
                listed[parent] = tuple(
                    account["Id"]
                    for page in pages
                    for account in page["Accounts"]
                    if account.get("Status", "ACTIVE") == "ACTIVE"
                )
            except ClientError as exc:
                errors.append(
                    f"{parent}: {AwsError.from_client_error('ListAccountsForParent', exc)}"
                )
            except BotoCoreError as exc:
                errors.append(
                    f"{parent}: {AwsError.from_botocore_error('ListAccountsForParent', exc)}"
                )
        return listed, errors


def function_expansion(
    function: str,
    targets: Targets,
    *,
    hub_account: str,
    hub_region: str,
    environment: str,
    organizations: OrganizationAccounts | None = None,
) -> Expansion:
    """The work items of `function`'s run, the OUs' accounts listed first; an OU that cannot be
    listed is left out, and said so (the other targets are worked)."""
    parents = [entry.ou for entry in targets.entries if entry.ou is not None]
    listed, errors = (organizations or OrganizationAccounts()).accounts(parents)
    expansion = expand_targets(
        targets,
        function,
        hub_account=hub_account,
        hub_region=hub_region,
        environment=environment,
        ou_accounts=listed,
    )
    unlisted = [line for line in expansion.excluded if "were not listed" not in line]
    return Expansion(expansion.items, (*unlisted, *errors))
