"""The judge: each recorded authorization evaluated against the calling function's role.

One long-lived node process (`node/judge.mjs`, @cloud-copilot/iam-simulate) answers JSON lines;
this module turns a recorded request (see `iamjudge.recorder`) and a role (see `iamjudge.roles`)
into `Verdict`s. Anything that keeps a call from being judged (no resource mapping, a look-up that
failed, a request or policy IAM would not accept) is a verdict that fails too: nothing is waved
through.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iamjudge.roles import Role

NODE_PACKAGE = Path(__file__).with_name("node")
JUDGE_SCRIPT = NODE_PACKAGE / "judge.mjs"


class JudgeUnavailableError(Exception):
    """node or the judge's npm packages are missing (`make iam-judge` installs them)."""


@dataclass(frozen=True)
class Verdict:
    """One authorization of one call, judged."""

    function: str
    site: str
    action: str
    resource: str | None
    decision: str  # Allowed, ExplicitlyDenied, ImplicitlyDenied, Error, Unmapped, Unrecorded
    statements: tuple[str, ...] = ()
    detail: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
    implied_by: str | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "Allowed"

    @property
    def resource_kind(self) -> str:
        return resource_kind(self.resource)

    def describe(self) -> str:
        """What a failing test says about the call."""
        action = self.action + (f" (required by {self.implied_by})" if self.implied_by else "")
        if self.decision == "ExplicitlyDenied":
            why = "denied by " + ", ".join(self.statements)
        elif self.decision == "ImplicitlyDenied":
            why = "no Allow in the role"
        else:
            why = f"{self.decision}: {self.detail}"
        context = json.dumps(dict(self.context), sort_keys=True) if self.context else "{}"
        return (
            f"{self.function} at {self.site}: {action} on {self.resource} -> {why}; "
            f"context {context}"
        )


def resource_kind(resource: str | None) -> str:
    """The resource type part of an ARN (`service`, `table`, `db`, ...), or the ARN as written
    when it has none (`*`)."""
    if not resource or not resource.startswith("arn:"):
        return resource or "-"
    parts = resource.split(":", 5)
    service, rest = parts[2], parts[5] if len(parts) > 5 else ""
    if service == "sns":
        return "topic"
    return re.split(r"[/:]", rest, maxsplit=1)[0]


class Judge:
    """The node process; `evaluate` is thread-safe."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise JudgeUnavailableError("node is not on PATH; the IAM judge runs under node")
        if not (NODE_PACKAGE / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
            raise JudgeUnavailableError(
                f"the judge's npm packages are not installed: run `make iam-judge` "
                f"(npm ci in {NODE_PACKAGE})"
            )
        self._process = subprocess.Popen(
            [node, str(JUDGE_SCRIPT)],
            cwd=NODE_PACKAGE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next = 0
        self._defined: set[str] = set()

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=10)

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            message = {**message, "id": self._next}
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise JudgeUnavailableError("the judge's node process stopped")
        return json.loads(line)

    def _role_key(self, role: Role) -> str:
        key = f"{role.function}@{hash(json.dumps(role.policies, sort_keys=True, default=str))}"
        if key not in self._defined:
            self._ask({"define": key, "policies": list(role.policies)})
            self._defined.add(key)
        return key

    def evaluate(
        self, role: Role, account: str, authorization: Mapping[str, Any], site: str
    ) -> Verdict:
        action, resource = authorization["action"], authorization.get("resource")
        common = {
            "function": role.function,
            "site": site,
            "action": action,
            "resource": resource,
            "context": authorization.get("context", {}),
            "implied_by": authorization.get("impliedBy"),
        }
        if resource is None:
            return Verdict(
                **common,
                decision="Unmapped",
                detail="the recorder does not know this operation's resource "
                "(add it to iamjudge.recorder.OPERATIONS)",
            )
        answer = self._ask(
            {
                "role": self._role_key(role),
                "principal": role.principal(account),
                "account": account,
                "action": action,
                "resource": resource,
                "context": authorization.get("context", {}),
                "resourcePolicy": authorization.get("resourcePolicy"),
            }
        )
        return Verdict(
            **common,
            decision=answer["decision"],
            statements=tuple(answer.get("statements") or ()),
            detail=json.dumps(answer.get("errors")) if answer.get("errors") else "",
        )


def judge_record(
    judge: Judge, record: Mapping[str, Any], role_for: Callable[[str, str, str], Role]
) -> list[Verdict]:
    """Every authorization of one recorded request, judged against the role `role_for(function,
    region, account)` gives. A request that could not be recorded fully is one failing verdict."""
    function, site = record["function"], record["site"]
    if record.get("failure"):
        return [
            Verdict(
                function=function,
                site=site,
                action=f"{record['service']}:{record['operation']}",
                resource=None,
                decision="Unrecorded",
                detail=f"the recorder's look-up failed: {record['failure']}",
            )
        ]
    role = role_for(function, record["region"], record["account"])
    return [
        judge.evaluate(role, record["account"], authorization, site)
        for authorization in record["authorizations"]
    ]
