"""The local cloud's IAM judging: each invocation's AWS calls, judged after it ends.

`localcloud.runtime.invoke` asks `recording(stack)` for the environment that makes the function
process record its calls (this package's `site/sitecustomize.py` on PYTHONPATH, a record file in
NIGHTSHIFT_IAM_RECORD), and hands the record file to `judge_invocation` when the function is
done. Roles come from the deployed stack's own template and resource names.

NIGHTSHIFT_IAM_JUDGE switches it: `1` on (an error when node or the judge's packages are
missing), `0` off, unset: on when the judge is installed (`make iam-judge`).
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamjudge.judge import NODE_PACKAGE, Judge, Verdict, judge_record
from iamjudge.permissions import declared
from iamjudge.roles import (
    Role,
    functions_by_service,
    role_of,
    source_template,
    spoke_function,
    spoke_role,
)

if TYPE_CHECKING:
    from localcloud.intrinsics import Resolver
    from localcloud.stack import Stack

SWITCH = "NIGHTSHIFT_IAM_JUDGE"
RECORD_VARIABLE = "NIGHTSHIFT_IAM_RECORD"
# A file each verdict is appended to (one JSON line), to count what was judged.
LEDGER_VARIABLE = "NIGHTSHIFT_IAM_LEDGER"
SITE = Path(__file__).with_name("site")

_judge: Judge | None = None


class IamDeniedError(Exception):
    """A function made an AWS call its role in template.yaml does not allow."""


def enabled() -> bool:
    switch = os.environ.get(SWITCH, "")
    if switch == "0":
        return False
    if switch == "1":
        return True
    return (NODE_PACKAGE / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir()


def _the_judge() -> Judge:
    global _judge
    if _judge is None:
        _judge = Judge()
        atexit.register(_judge.close)
    return _judge


@contextmanager
def recording(logical_id: str, python_path: str) -> Iterator[tuple[dict[str, str], Path | None]]:
    """The environment additions that make the process of function `logical_id` record its
    calls, and the file they go to (None, and no additions, when judging is off or the function
    is not one of template.yaml's: the local cloud's own probe app is not judged)."""
    if not enabled() or logical_id not in functions_by_service(source_template()).values():
        yield {}, None
        return
    _the_judge()  # fails now, before the function runs, if the judge cannot run
    handle, name = tempfile.mkstemp(prefix="nightshift-iam-", suffix=".jsonl")
    os.close(handle)
    path = Path(name)
    try:
        yield (
            {
                "PYTHONPATH": os.pathsep.join(part for part in (python_path, str(SITE)) if part),
                RECORD_VARIABLE: str(path),
            },
            path,
        )
    finally:
        path.unlink(missing_ok=True)


def _resolver(stack: Stack) -> Resolver:
    """The stack's resolver, except a KMS key's Arn is made from its id: moto's DescribeKey fails
    on a key whose policy CloudFormation set."""
    resolver = stack.resolver()

    def get_att(logical_id: str, name: str) -> Any:
        resource = stack.template["Resources"].get(logical_id, {})
        if resource.get("Type") == "AWS::KMS::Key" and name == "Arn":
            key_id = stack.physical_id(logical_id)
            return f"arn:aws:kms:{stack.endpoint.region}:{stack.account_id}:key/{key_id}"
        return stack.attribute(logical_id, name)

    return dataclasses.replace(resolver, get_att=get_att)


def _spoke(stack: Stack) -> dict[str, Any]:
    """The spoke parameters a member account's spoke takes from the hub stack."""
    names = ("Environment", "OrganizationId", "CoreStackName")
    return {name: stack.parameters[name] for name in names if stack.parameters.get(name)}


def judge_invocation(stack: Stack, logical_id: str, record_file: Path) -> list[Verdict]:
    """Judge what the invocation of `logical_id` recorded; raise IamDeniedError naming every
    call its role does not allow."""
    judge = _the_judge()
    roles: dict[tuple[str, str, str], Role] = {}

    def role_for(caller: str | None) -> Any:
        def role(function: str, region: str, account: str) -> Role:
            # A call made through a spoke role (hub and spoke, docs/organization.md) is judged
            # against that role as spoke.yaml makes it in the call's account, deployed with the
            # hub's Environment and OrganizationId; any other against the hub stack's own role.
            through_spoke = spoke_function(caller) == function
            key = (function, region, account) if through_spoke else (function, "", "")
            if key not in roles:
                roles[key] = (
                    spoke_role(function, region=region, account=account, parameters=_spoke(stack))
                    if through_spoke
                    else role_of(stack.template, function, _resolver(stack))
                )
            return roles[key]

        return role

    verdicts: list[Verdict] = []
    for line in record_file.read_text(encoding="utf-8").splitlines():
        record: Mapping[str, Any] = json.loads(line)
        if not record.get("function"):
            raise IamDeniedError(f"{logical_id} called AWS without POWERTOOLS_SERVICE_NAME: {line}")
        verdicts.extend(
            declared(v) for v in judge_record(judge, record, role_for(record.get("caller")))
        )
    ledger = os.environ.get(LEDGER_VARIABLE)
    if ledger:
        with open(ledger, "a", encoding="utf-8") as rows:
            for v in verdicts:
                row = {"function": v.function, "action": v.action, "resource_kind": v.resource_kind}
                rows.write(json.dumps({**row, "decision": v.decision, "tier": "localcloud"}) + "\n")
    denied = [verdict for verdict in verdicts if not verdict.allowed]
    if denied:
        lines = "\n".join(f"  - {verdict.describe()}" for verdict in denied)
        raise IamDeniedError(
            f"{logical_id}'s role in template.yaml does not allow these calls:\n{lines}"
        )
    return verdicts
