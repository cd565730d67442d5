"""Faults at AWS call boundaries, injected with botocore's own event hooks.

A `FaultInjector` is registered on a boto3 session before any client is made (botocore copies
the session's event handlers into every client it creates), or on existing clients. It numbers
every AWS call made while it is armed, records it (service, operation, parameters), and
answers the calls its plan names with a fault:

- THROTTLE, SERVER_ERROR, ACCESS_DENIED: the error response AWS sends, with the code the
  service uses (`RequestLimitExceeded` for EC2, `Throttling` for the query services,
  `ThrottlingException` for the JSON ones, ...), answered from `before-call`. That hook runs
  outside botocore's retry loop, so the fault stands for one that outlasted every retry: the
  code sees it, and the call never reached moto;
- TIMEOUT: a `ReadTimeoutError` raised from `after-call`: the call reached AWS and took effect,
  but the answer never came back (the case that makes a retry repeat a write);
- CRASH_BEFORE, CRASH_AFTER: `ProcessCrash`, a BaseException that no `except Exception` can
  catch, raised from `before-call` (the call is not made) or `after-call` (it took effect): the
  Lambda process dies there.

    injector = FaultInjector()
    injector.install(session.events)
    injector.arm({3: FaultKind.CRASH_AFTER})
    with pytest.raises(ProcessCrash):
        handler(event, context)
    injector.disarm()
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError


class ProcessCrash(BaseException):
    """The Lambda process died at this point: nothing in the code under test can catch it."""


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "5xx"
    ACCESS_DENIED = "access-denied"
    TIMEOUT = "timeout"
    CRASH_BEFORE = "crash-before"
    CRASH_AFTER = "crash-after"


FAULT_KINDS = tuple(FaultKind)
# Faults that stop the call before it reaches AWS; the others strike after it took effect.
BLOCKING = frozenset(
    {FaultKind.THROTTLE, FaultKind.SERVER_ERROR, FaultKind.ACCESS_DENIED, FaultKind.CRASH_BEFORE}
)

# The error code each service answers with, by botocore protocol, with the services that differ.
_CODES: Mapping[FaultKind, tuple[int, Mapping[str, str], Mapping[str, str]]] = {
    FaultKind.THROTTLE: (
        400,
        {"json": "ThrottlingException", "query": "Throttling", "ec2": "RequestLimitExceeded"},
        {"resource-groups-tagging-api": "ThrottledException", "cloudwatch": "Throttling"},
    ),
    FaultKind.SERVER_ERROR: (
        500,
        {"json": "InternalFailure", "query": "InternalFailure", "ec2": "InternalError"},
        {"dynamodb": "InternalServerError", "ecs": "ServerException"},
    ),
    FaultKind.ACCESS_DENIED: (
        403,
        {"json": "AccessDeniedException", "query": "AccessDenied", "ec2": "UnauthorizedOperation"},
        {"cloudwatch": "AccessDenied"},
    ),
}


def error_code(kind: FaultKind, service_id: str, protocol: str) -> tuple[int, str]:
    """The HTTP status and AWS error code `service_id` answers `kind` with."""
    status, by_protocol, by_service = _CODES[kind]
    return status, by_service.get(service_id) or by_protocol.get(protocol, by_protocol["json"])


def error_response(kind: FaultKind, operation: str, service_id: str, protocol: str) -> Any:
    """What a `before-call` handler returns to answer the call with AWS's error."""
    status, code = error_code(kind, service_id, protocol)
    return AWSResponse("https://fault.invalid", status, {}, None), {
        "Error": {"Code": code, "Message": f"{operation}: injected {kind.value}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


@dataclass(frozen=True)
class Call:
    """One AWS call seen by the injector: its number in the armed window and what it was."""

    index: int
    service: str
    operation: str
    body: str  # the request as sent (JSON text, or the query protocol's form fields)
    fields: Mapping[str, Any] = field(default_factory=dict)  # its top-level parameters

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"

    @property
    def writes(self) -> bool:
        return not self.operation.startswith(("Describe", "List", "Get", "Query", "Scan"))


@dataclass
class FaultInjector:
    """Numbers, records and faults every AWS call made while armed (see the module docstring)."""

    plan: dict[int, FaultKind] = field(default_factory=dict)
    rules: list[tuple[str, int, FaultKind]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    injected: list[tuple[Call, FaultKind]] = field(default_factory=list)
    armed: bool = False
    _seen: dict[str, int] = field(default_factory=dict)

    def install(self, events: Any) -> FaultInjector:
        """Register on an event emitter: a session's `events` or a client's `meta.events`."""
        events.register_first("before-call", self._before)
        events.register_first("after-call", self._after)
        return self

    def attach(self, clients: tuple[Any, ...]) -> FaultInjector:
        for client in clients:
            self.install(client.meta.events)
        return self

    def arm(
        self,
        plan: Mapping[int, FaultKind] | None = None,
        rules: list[tuple[str, int, FaultKind]] | None = None,
    ) -> None:
        """Start a window: calls are numbered from 0; `plan` faults call numbers, `rules`
        fault the n-th (from 1) call of an operation, e.g. `("UpdateService", 1, THROTTLE)`."""
        self.plan = dict(plan or {})
        self.rules = list(rules or [])
        self.calls = []
        self.injected = []
        self._seen = {}
        self.armed = True

    def disarm(self) -> None:
        self.armed = False

    def reached(self) -> list[Call]:
        """The calls of the armed window that reached AWS (took effect, whatever was seen)."""
        blocked = {call.index for call, kind in self.injected if kind in BLOCKING}
        return [call for call in self.calls if call.index not in blocked]

    def _fault_for(self, call: Call) -> FaultKind | None:
        if call.index in self.plan:
            return self.plan[call.index]
        for operation, nth, kind in self.rules:
            if operation == call.operation and self._seen[operation] == nth:
                return kind
        return None

    def _before(self, event_name: str, model: Any, params: Any, context: Any, **_: Any) -> Any:
        if not self.armed:
            return None
        service = event_name.split(".")[1]
        body = params.get("body")
        call = Call(len(self.calls), service, model.name, _text(body), _fields(body))
        self.calls.append(call)
        self._seen[call.operation] = self._seen.get(call.operation, 0) + 1
        kind = self._fault_for(call)
        if kind is None:
            return None
        context["nightshift_fault"] = (call, kind)
        if kind in (FaultKind.TIMEOUT, FaultKind.CRASH_AFTER):
            return None  # the call goes through; the fault strikes after it
        self.injected.append((call, kind))
        if kind is FaultKind.CRASH_BEFORE:
            raise ProcessCrash(f"process died before {call.name}")
        return error_response(kind, call.operation, service, model.service_model.protocol)

    def _after(self, context: Any, **_: Any) -> None:
        pending = context.pop("nightshift_fault", None) if self.armed else None
        if pending is None:
            return
        call, kind = pending
        if kind not in (FaultKind.TIMEOUT, FaultKind.CRASH_AFTER):
            return
        self.injected.append((call, kind))
        if kind is FaultKind.CRASH_AFTER:
            raise ProcessCrash(f"process died after {call.name}")
        raise ReadTimeoutError(endpoint_url=f"https://{call.service}.invalid/{call.operation}")


def run_until_crash(run: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Call `run`; a crash or any exception ends it as it would end a Lambda invocation."""
    try:
        return run(), None
    except (ProcessCrash, Exception) as exc:  # an invocation ends either way
        return None, exc


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return str(body or "")


def _fields(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return dict(body)
    try:
        parsed = json.loads(body) if body else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
