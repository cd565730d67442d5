"""The demo's hold on the local cloud: the deployed stack, the example app, the webhook receiver,
the health app, and the few moves every step makes (fire a schedule, invoke, drain the notifier's
queue and show what reached chat), each written to the timeline as it happens.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from localcloud.alarms import AlarmEvaluator, AlarmState, EvaluationReport
from localcloud.demo.day import DemoDay, zulu
from localcloud.demo.health_app import HealthApp
from localcloud.demo.timeline import Timeline
from localcloud.example_app import ExampleApp
from localcloud.receiver import ReceivedRequest, WebhookReceiver
from localcloud.router import DrainReport, Router
from localcloud.runtime import InvokeResult, invoke
from localcloud.stack import Stack

NOTIFIER_QUEUE = "NotifierQueue"  # the ops topic's queue the notifier reads (template.yaml)
ECS_DIMENSION = "ecs:service:DesiredCount"
RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)")


class StepFailed(Exception):
    """A step did not get the outcome it plays for; the message says why."""


@dataclass(frozen=True)
class StagingState:
    """The example app's staging as AWS describes it: what the scheduler parks and restores."""

    desired: int
    minimum: int | None
    maximum: int | None
    database: str

    def describe(self) -> str:
        """>>> StagingState(2, 2, 10, "available").describe()
        'service desiredCount 2, autoscaling 2-10; database available'
        """
        target = f", autoscaling {self.minimum}-{self.maximum}" if self.minimum is not None else ""
        return f"service desiredCount {self.desired}{target}; database {self.database}"


@dataclass
class CountingInvoker:
    """`localcloud.invoke`, counted: the review says how many cold starts the day took."""

    count: int = 0

    def __call__(
        self,
        stack: Stack,
        logical_id: str,
        event: Any,
        env_overrides: Mapping[str, str] | None = None,
    ) -> InvokeResult:
        self.count += 1
        return invoke(stack, logical_id, event, env_overrides)


@dataclass
class DemoCloud:
    """Everything a step touches, and the timeline it writes to."""

    stack: Stack
    app: ExampleApp
    receiver: WebhookReceiver
    health: HealthApp
    day: DemoDay
    timeline: Timeline
    canaries: Sequence[Mapping[str, Any]]  # the policy's `canaries` section
    invoker: CountingInvoker = field(default_factory=CountingInvoker)
    router: Router = field(init=False)
    shown: int = 0  # receiver requests already on the timeline

    def __post_init__(self) -> None:
        # retry_now: a failed notifier batch is retried at once, so one drain settles it.
        self.router = Router(self.stack, invoker=self.invoker, retry_now=True)

    # ----------------------------------------------------------------------- functions
    def environment(self, function: str) -> Mapping[str, str]:
        """The deployed function's environment variables (as Lambda has them)."""
        configuration = self.stack.endpoint.client("lambda").get_function_configuration(
            FunctionName=self.stack.function_name(function)
        )
        variables: Mapping[str, str] = configuration.get("Environment", {}).get("Variables", {})
        return variables

    def schedule_of(self, function: str) -> str:
        """The logical id of the Scheduler schedule whose target is `function`."""
        arn = self.stack.attribute(function, "Arn")
        found = [
            logical_id
            for logical_id in self.router.schedules()
            if logical_id in self.stack.emulated
            and self.stack.emulated[logical_id].properties["Target"]["Arn"] == arn
        ]
        if len(found) != 1:
            raise StepFailed(f"{function} should have one schedule, it has {found or 'none'}")
        return found[0]

    def schedule_rate(self, function: str) -> dt.timedelta:
        """How often `function`'s schedule fires (its `rate(...)` expression)."""
        schedule = self.schedule_of(function)
        expression = str(self.stack.emulated[schedule].properties.get("ScheduleExpression"))
        match = RATE.fullmatch(expression)
        if match is None:
            raise StepFailed(f"{schedule} is {expression}, not a rate(...) the demo can tick by")
        return dt.timedelta(**{f"{match['unit'].rstrip('s')}s": int(match["value"])})

    def fire(self, function: str, at: dt.datetime) -> dict[str, Any]:
        """Fire `function`'s schedule at `at`, as EventBridge Scheduler would; its report."""
        schedule = self.schedule_of(function)
        report = self.router.fire_schedule(schedule, zulu(at))
        (delivery,) = report.deliveries
        if delivery.result is None:
            raise StepFailed(f"schedule {schedule} reached no function: {delivery.note}")
        return self.payload(delivery.result)

    def invoke(self, function: str, event: Mapping[str, Any]) -> dict[str, Any]:
        """One synchronous invocation, as `scripts/invoke` makes it; the function's answer."""
        return self.payload(self.invoker(self.stack, function, dict(event)))

    @staticmethod
    def payload(result: InvokeResult) -> dict[str, Any]:
        if result.error:
            lines = (result.error_message or "").strip().splitlines() or [""]
            raise StepFailed(f"{result.function} failed: {result.error_type}: {lines[-1]}")
        if not isinstance(result.payload, dict):
            raise StepFailed(f"{result.function} answered {result.payload!r}, not a report")
        return result.payload

    # ---------------------------------------------------------------------------- chat
    def deliver_chat(self, drains: tuple[DrainReport, ...] = ()) -> list[ReceivedRequest]:
        """Play the notifier's poller on its queue (what functions published to the ops topic
        waits there) and show every chat message that arrived since the last call."""
        settled = (*drains, self.router.drain(NOTIFIER_QUEUE))
        for drain in settled:
            if drain.failed:
                failures = [
                    f"{b.result.error_type}: {(b.result.error_message or '').strip()[:200]}"
                    for b in drain.batches
                    if b.outcome.failed
                ]
                raise StepFailed(
                    f"the notifier failed on {len(drain.failed)} message(s): {failures}"
                )
        return self.show_chat()

    def show_chat(self) -> list[ReceivedRequest]:
        arrived = self.receiver.requests[self.shown :]
        self.shown += len(arrived)
        for request in arrived:
            self.timeline.chat(request)
        return arrived

    # -------------------------------------------------------------------------- alarms
    def evaluate_alarms(self, evaluator: AlarmEvaluator, at: dt.datetime) -> EvaluationReport:
        """CloudWatch's minute: evaluate, and show each state change and the messages it sent."""
        report = evaluator.evaluate(at)
        for transition in report.transitions:
            self.timeline.at(
                at,
                f"CloudWatch: {transition.alarm} {transition.old_state} -> "
                f"{transition.new_state}: {transition.reason}",
            )
            if transition.old_state is AlarmState.INSUFFICIENT_DATA:
                self.timeline.detail(
                    "(a new alarm's first verdict: CloudWatch runs its OK actions for it too)"
                )
        self.deliver_chat(tuple(d for p in report.publishes for d in p.drains))
        return report

    # ------------------------------------------------------------------------- staging
    def staging(self) -> StagingState:
        """The example app's service capacity and database status now."""
        service = self.app.describe_service()
        targets = self.stack.endpoint.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs",
            ResourceIds=[f"service/{self.app.cluster_name}/{self.app.service_name}"],
            ScalableDimension=ECS_DIMENSION,
        )["ScalableTargets"]
        (database,) = self.stack.endpoint.client("rds").describe_db_instances(
            DBInstanceIdentifier=self.app.db_instance_id
        )["DBInstances"]
        minimum, maximum = (
            (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else (None, None)
        )
        return StagingState(
            int(service["desiredCount"]), minimum, maximum, str(database["DBInstanceStatus"])
        )
