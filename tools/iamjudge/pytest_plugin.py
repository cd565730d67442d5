"""pytest plug-in: every AWS call a function makes in a test is judged against its role.

Switch it on for a test directory with an autouse fixture in its conftest.py:

    @pytest.fixture(autouse=True)
    def _iam_judged(iam_judge):
        return iam_judge

(tests/functional does; a fault tier does the same). The plug-in itself is loaded for every
test run (`-p iamjudge.pytest_plugin` in pyproject.toml); without the fixture it records nothing.

The role of a call is its function's (POWERTOOLS_SERVICE_NAME at call time) from template.yaml,
resolved against the test's own stack: the state table and ops topic named in the function's
environment (NIGHTSHIFT_STATE_TABLE, NIGHTSHIFT_OPS_TOPIC_ARN), the template's parameter
defaults, and any parameter the test sets with `iam_judge.parameters[...] = ...` (before the
handler runs). A call the role does not allow fails the test after its body, naming the call
site, the action, the resource and the denying statement (or "no Allow in the role").
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iamjudge import recorder
from iamjudge.judge import Judge, Verdict, judge_record
from iamjudge.permissions import declared
from iamjudge.roles import Role, role_in_test_stack, spoke_function, spoke_role

LEDGER_VARIABLE = "NIGHTSHIFT_IAM_LEDGER"


@dataclass
class JudgedCalls:
    """The verdicts of one test, and the parameters its stack is deployed with."""

    judge: Judge
    parameters: dict[str, Any] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)
    unattributed: int = 0
    removed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: dict[str, Any]) -> None:
        if not request.get("function"):
            # An adapter called straight from a test, outside any function: no role to judge by.
            with self._lock:
                self.unattributed += 1
            return
        caller = request.get("caller")
        verdicts = [
            declared(verdict)
            for verdict in judge_record(
                self.judge,
                request,
                lambda function, region, account: self.role(function, region, account, caller),
            )
        ]
        with self._lock:
            self.verdicts.extend(verdicts)

    def without_statements(self, *sids: str) -> None:
        """Judge as if the role had no statements with these Sids (to prove a test fails at the
        call a statement allows)."""
        self.removed.update(sids)

    def role(self, function: str, region: str, account: str, caller: str | None = None) -> Role:
        """The function's role in template.yaml; for a call made through a spoke role (hub and
        spoke), that role as spoke.yaml makes it in the call's account."""
        if spoke_function(caller) == function:
            return spoke_role(function, region=region, account=account)
        role = role_in_test_stack(
            function,
            region=region,
            account=account,
            table=os.environ.get("NIGHTSHIFT_STATE_TABLE", "StateTable"),
            topic_arn=os.environ.get(
                "NIGHTSHIFT_OPS_TOPIC_ARN", f"arn:aws:sns:{region}:{account}:ops"
            ),
            parameters=self.parameters,
            target_queue_url=os.environ.get("NIGHTSHIFT_TARGET_QUEUE_URL"),
        )
        if not self.removed:
            return role
        policies = tuple(
            {
                **policy,
                "policy": {
                    **policy["policy"],
                    "Statement": [
                        statement
                        for statement in policy["policy"]["Statement"]
                        if statement.get("Sid") not in self.removed
                    ],
                },
            }
            for policy in role.policies
        )
        return dataclasses.replace(role, policies=policies)

    def take_denied(self) -> list[Verdict]:
        """The calls denied so far, which no longer fail the test: for a test that proves a
        denial (assert on what this returns)."""
        with self._lock:
            denied = self.denied
            self.verdicts = [verdict for verdict in self.verdicts if verdict.allowed]
        return denied

    @property
    def denied(self) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if not verdict.allowed]


@pytest.fixture(scope="session")
def iam_judge_process() -> Iterator[Judge]:
    """The judge's node process, one per test session."""
    judge = Judge()
    yield judge
    judge.close()


@pytest.fixture
def iam_judge(request: pytest.FixtureRequest, iam_judge_process: Judge) -> Iterator[JudgedCalls]:
    """Record and judge every AWS call function code makes during the test."""
    calls = JudgedCalls(judge=iam_judge_process)
    request.node.stash[_CALLS] = calls
    recorder.install(calls.record)
    try:
        yield calls
    finally:
        recorder.uninstall()
        _LEDGER.update((v.function, v.action, v.resource_kind, v.decision) for v in calls.verdicts)
        _UNATTRIBUTED[0] += calls.unattributed


_CALLS = pytest.StashKey[JudgedCalls]()
_LEDGER: Counter[tuple[str, str, str, str]] = Counter()
_UNATTRIBUTED = [0]  # calls from nightshift code outside any function (no role to judge by)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    calls = item.stash.get(_CALLS, None)
    if calls is not None and calls.denied:
        lines = "\n".join(f"  - {verdict.describe()}" for verdict in calls.denied)
        raise AssertionError(f"the role in template.yaml does not allow these calls:\n{lines}")
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _LEDGER and not _UNATTRIBUTED[0]:
        return
    triples = {(function, action, kind) for function, action, kind, _ in _LEDGER}
    calls = sum(_LEDGER.values())
    terminalreporter.write_line(
        f"IAM judge: {calls} authorizations judged, "
        f"{len(triples)} distinct (function, action, resource kind); "
        f"{_UNATTRIBUTED[0]} calls made outside any function not judged"
    )
    ledger = os.environ.get(LEDGER_VARIABLE)
    if ledger:
        rows = [
            {"function": f, "action": a, "resource_kind": k, "decision": d, "count": n}
            for (f, a, k, d), n in sorted(_LEDGER.items())
        ]
        Path(ledger).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
