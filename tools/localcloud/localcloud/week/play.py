"""Play the week: set up the local cloud as `make demo` does (moto, here in this process, the
built stack with policy/week.yaml (the demo policy with the shipped digest routes) plus the
week's holiday, the example app, a production service beside it, the webhook receiver for
Slack, the app's /health), then walk the week minute by minute.

Every minute, in this order: what is injected at that minute; CloudWatch's alarm evaluation;
every schedule of the stack that fires that minute (week/schedules.py), the canary's last;
the notifier's queue drained if anything may have reached it. `/health` follows the fleet:
after anything that can change staging (a scheduler run, an incident) it is set from what moto
says (service at 0 tasks: 503, as a load balancer with no targets answers; database not
available: 503 with `database: down`).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.alarms import AlarmEvaluator
from localcloud.demo import payloads
from localcloud.demo.__main__ import publish_demo_policy
from localcloud.demo.cloud import NOTIFIER_QUEUE
from localcloud.demo.day import zulu
from localcloud.demo.health_app import DEGRADED, HEALTHY, HealthAnswer, HealthApp
from localcloud.example_app import ExampleApp, deploy_example_app
from localcloud.fleet import Fleet
from localcloud.inprocess import InProcessCloud
from localcloud.project import Project
from localcloud.receiver import WebhookReceiver, format_chat_message
from localcloud.router import AsyncConfig, QueueTrigger, Router
from localcloud.stack import Stack, ensure_stack
from localcloud.throttle_proxy import ThrottleProxy
from localcloud.webhooks import seed_webhook_secrets
from localcloud.week.plan import MINUTE, Injected, Week
from localcloud.week.schedules import Due
from localcloud.week.summary import FleetFacts, Message, Run
from localcloud.week.warm import WarmInvoker
from nightshift.canary.alarms import AlarmRules
from nightshift.policy import load_policy

PARAMETERS = {"PolicyFile": "demo.yaml", "PrunerDryRun": "false"}
# What the week publishes as PolicySource: demo.yaml with the shipped policy's digest routes.
WEEK_POLICY = "week.yaml"
SCHEDULE = "office-hours"
# Invoked hundreds or thousands of times: warm sandboxes (warm.py says why). The others run
# under the Lambda RIE, a cold start each time, exactly as `make demo` runs them.
WARM = frozenset({"CanaryFunction", "SchedulerFunction", "NotifierFunction"})
UNREACHABLE = HealthAnswer(
    "unreachable", 503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
)
PRODUCTION_TAGS = {
    "Environment": "production",
    "nightshift:schedule": SCHEDULE,
    "nightshift:redeploy": "main",
}


class CachedRouter(Router):
    """The Router, remembering what the deployed stack says once instead of on every minute:
    the queue triggers, the queues' redrive policies and ARNs, the functions' asynchronous
    configuration, the schedules. The week asks tens of thousands of times; the stack does not
    change meanwhile."""

    _memo: dict[tuple[str, str], Any]

    def _remember(self, key: tuple[str, str], answer: Callable[[], Any]) -> Any:
        memo = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo[key] = answer()
        return memo[key]

    def queue_triggers(self) -> tuple[QueueTrigger, ...]:
        found: tuple[QueueTrigger, ...] = self._remember(("triggers", ""), super().queue_triggers)
        return found

    def _has_redrive_policy(self, queue_url: str) -> bool:
        return bool(
            self._remember(
                ("redrive", queue_url),
                lambda: super(CachedRouter, self)._has_redrive_policy(queue_url),
            )
        )

    def _queue_arn(self, queue: str) -> str:
        return str(
            self._remember(("arn", queue), lambda: super(CachedRouter, self)._queue_arn(queue))
        )

    def async_config(self, function: str) -> AsyncConfig:
        found: AsyncConfig = self._remember(
            ("async", function), lambda: super(CachedRouter, self).async_config(function)
        )
        return found

    def schedules(self) -> tuple[str, ...]:
        found: tuple[str, ...] = self._remember(("schedules", ""), super().schedules)
        return found

    def _queue_url(self, queue_arn: str) -> str:
        return str(
            self._remember(
                ("url", queue_arn), lambda: super(CachedRouter, self)._queue_url(queue_arn)
            )
        )


# What can put a message on the notifier's queue, and what can change an alarm's description.
QUEUE_WRITES = (
    "sns:Publish",
    "sns:PublishBatch",
    "sqs:SendMessage",
    "sqs:SendMessageBatch",
    "sqs:ChangeMessageVisibility",
    "sqs:ChangeMessageVisibilityBatch",
)
ALARM_WRITES = (
    "monitoring:PutMetricAlarm",
    "monitoring:DeleteAlarms",
    "monitoring:SetAlarmState",
    "monitoring:EnableAlarmActions",
    "monitoring:DisableAlarmActions",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:DeleteStack",
)


@dataclass
class Writes:
    """Whether moto served none of `operations` since the last time this was asked (the
    throttle proxy in front of it counts every request): what nobody wrote to need not be read
    again. The first question always answers no."""

    proxy: ThrottleProxy
    operations: tuple[str, ...]
    seen: int | None = None

    def none_since(self) -> bool:
        count = self.proxy.served(*self.operations)
        unchanged, self.seen = count == self.seen, count
        return unchanged


class FleetHealth(HealthApp):
    """The example app's /health as the fleet's state makes it."""

    def follow(self, *, tasks: int, database: str, database_fault: bool) -> None:
        if tasks == 0:
            self._set(UNREACHABLE)
        elif database != "available" or database_fault:
            self._set(DEGRADED)
        else:
            self._set(HEALTHY)


@dataclass
class WeekPlay:
    """The local cloud during the week, and what it recorded."""

    week: Week
    stack: Stack
    app: ExampleApp
    receiver: WebhookReceiver
    health: FleetHealth
    production: Fleet
    proxy: ThrottleProxy
    now: dt.datetime
    invoker: WarmInvoker = field(init=False)
    router: Router = field(init=False)
    queue_writes: Writes = field(init=False)
    messages: list[Message] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    database_fault: bool = False
    durations: dict[str, list[float]] = field(default_factory=dict)
    pending: list[tuple[dt.datetime, dict[str, Any]]] = field(default_factory=list)
    parked: list[tuple[dt.datetime, dt.datetime | None]] = field(default_factory=list)
    started: list[dt.datetime] = field(default_factory=list)
    healthy_after_start: list[dt.datetime | None] = field(default_factory=list)
    production_before: dict[str, str] = field(default_factory=dict)
    setup_seconds: float = 0.0
    # Wall time by part of the minute (the functions' runs by function, under "run ..."),
    # seconds: where the week's time goes.
    spent: dict[str, float] = field(default_factory=dict)
    hours: list[float] = field(default_factory=list)  # wall seconds of each simulated hour
    played_until: dt.datetime | None = None

    def __post_init__(self) -> None:
        self.invoker = WarmInvoker(self.stack, WARM, clock=lambda: self.now)
        self.router = CachedRouter(self.stack, invoker=self.invoker, retry_now=True)
        self.queue_writes = Writes(self.proxy, QUEUE_WRITES)

    @contextlib.contextmanager
    def timed(self, part: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.spent[part] = self.spent.get(part, 0.0) + time.monotonic() - started

    def record(self, began: float) -> tuple[list[Message], list[Run], FleetFacts, dict[str, Any]]:
        """What was played so far: the transcript, the runs, the facts, the figures."""
        facts = FleetFacts(
            parked=tuple(self.parked),
            started=tuple(self.started),
            healthy_after_start=tuple(self.healthy_after_start),
            production_before=self.production_before,
            production_after=_plain(self.production.observe()),
            production_touched=_touched(self.runs, self.production_before),
            incidents=self.week.incidents(),
        )
        figures = {
            "setup_seconds": round(self.setup_seconds, 1),
            "seconds": round(time.monotonic() - began, 1),
            "played_from": self.week.start.isoformat()
            if not self.runs
            else self.runs[0].at.isoformat(),
            "played_until": self.played_until.isoformat() if self.played_until else None,
            "invocations": dict(self.invoker.counts),
            "cold": dict(self.invoker.cold),
            "median_ms": {f: round(statistics.median(d), 1) for f, d in self.durations.items()},
            # Every request moto served (the functions', the IAM recorder's look-ups, the
            # harness's own), per operation: where the week's time goes.
            "requests": dict(sorted(self.proxy.requests().items())),
            "hour_seconds": list(self.hours),
            "spent_seconds": {
                part: round(seconds, 1)
                for part, seconds in sorted({**self.spent, **self.invoker.spent}.items())
            },
        }
        return list(self.messages), list(self.runs), facts, figures

    # ------------------------------------------------------------------------- the moves
    def schedules(self) -> list[tuple[str, Due, tuple[str, ...]]]:
        """Every schedule of the deployed stack: its logical id, when it fires, the functions it
        runs; the canary's last (in a minute when the scheduler also runs, the canary probes
        what the scheduler left, as in the demo)."""
        found = []
        resolver = self.stack.resolver()
        for logical_id in self.router.schedules():
            if logical_id in self.stack.emulated:  # EventBridge Scheduler (ScheduleV2)
                props = self.stack.emulated[logical_id].properties
                zone = str(props.get("ScheduleExpressionTimezone") or "UTC")
                arns = [str(props["Target"]["Arn"])]
            else:  # an EventBridge rule (Schedule): UTC
                props = resolver.resolve(self.stack.resource(logical_id).get("Properties", {}))
                zone = "UTC"
                arns = [str(target["Arn"]) for target in props.get("Targets", [])]
            due = Due.of(str(props["ScheduleExpression"]), zone)
            found.append((logical_id, due, tuple(self.stack.function_for(a) for a in arns)))
        return sorted(found, key=lambda s: ("CanaryFunction" in s[2], s[0]))

    def fire(self, schedule: str) -> dict[str, dict[str, Any]]:
        """Fire a schedule at the simulated minute; each function's report by function."""
        report = self.router.fire_schedule(schedule, zulu(self.now))
        return {
            (function := self.stack.function_for(d.target)): self._record(function, d.result)
            for d in report.deliveries
        }

    def _record(self, function: str, result: Any) -> dict[str, Any]:
        if result is None:
            payload: dict[str, Any] = {"summary": "not delivered"}
            error = "not delivered"
        else:
            payload = result.payload if isinstance(result.payload, dict) else {}
            error = f"{result.error_type}: {result.error_message}" if result.error else ""
            self.durations.setdefault(function, []).append(result.duration_ms)
        self.runs.append(Run(self.now, function, payload, error))
        return payload

    def after_scheduler(self, tasks: int) -> int:
        """/health follows what the scheduler did; a stop or a start is noted. The service's
        task count now."""
        now_tasks, _ = self.follow_fleet()
        if tasks > 0 and now_tasks == 0:
            self.parked.append((self.now, None))
        elif tasks == 0 and now_tasks > 0:
            if self.parked and self.parked[-1][1] is None:
                self.parked[-1] = (self.parked[-1][0], self.now)
            self.started.append(self.now)
            self.healthy_after_start.append(None)
        return now_tasks

    def put_event(self, event: Mapping[str, Any]) -> None:
        report = self.router.put_event(event)
        for delivery in report.deliveries:
            if delivery.result is not None:
                function = self.stack.function_for(delivery.target)
                self._record(function, delivery.result)

    def deliver_chat(self) -> None:
        """Drain the notifier's queue if anything may have reached it since the last drain
        (as Lambda's poller long-polls: an empty queue costs nothing), then read the chat."""
        if not self.queue_writes.none_since():
            self.router.drain(NOTIFIER_QUEUE)
        for request in self.receiver.requests[len(self.messages) :]:
            body = request.json
            text = format_chat_message(body) if body is not None else request.body.decode()
            self.messages.append(Message(self.now, request.path, text))

    def staging(self) -> tuple[int, str]:
        service = self.app.describe_service()
        (database,) = self.stack.endpoint.client("rds").describe_db_instances(
            DBInstanceIdentifier=self.app.db_instance_id
        )["DBInstances"]
        return int(service["desiredCount"]), str(database["DBInstanceStatus"])

    def follow_fleet(self) -> tuple[int, str]:
        tasks, database = self.staging()
        self.health.follow(tasks=tasks, database=database, database_fault=self.database_fault)
        return tasks, database

    # ------------------------------------------------------------------------ injections
    def inject(self, kind: Injected) -> None:
        if kind is Injected.PUSH:
            self.push(bad=False)
        elif kind is Injected.BAD_PUSH:
            self.push(bad=True)
        elif kind is Injected.BUDGET:
            alert = payloads.budget_alert(
                account=self.stack.account_id, day=self.week.day_of(self.now)
            )
            self.router.publish(
                self.app.parameters["NightshiftOpsTopicArn"], alert.message, alert.subject
            )
        elif kind is Injected.DATABASE_FAILS:
            self.database_fault = True
            self.follow_fleet()
        elif kind is Injected.DATABASE_RECOVERS:
            self.database_fault = False
            self.follow_fleet()

    def push(self, *, bad: bool) -> None:
        """CI pushes main-<sha>; redeploy rolls it out; ECS reports the outcome a few minutes
        later (queued as later injections: completed, or failed and rolled back)."""
        sha = hashlib.sha1(f"{self.now.isoformat()}{bad}".encode()).hexdigest()[:7]
        before = self._primary()
        _, event = self.app.push_image(f"main-{sha}", at=self.now)
        self.put_event(event)
        after = self._primary()  # moto keeps the deployment's id across updates: maybe `before`
        service = self.app.service_arn
        if not bad:
            self.later(4, deployment_event("eventbridge-ecs-deployment-completed", service, after))
            return
        self.later(6, deployment_event("eventbridge-ecs-deployment-failed", service, after))
        self.later(
            8,
            deployment_event(
                "eventbridge-ecs-deployment-rollback-in-progress",
                service,
                after,
                rollback_to=before,
            ),
        )
        self.later(12, deployment_event("eventbridge-ecs-deployment-completed", service, before))

    def _primary(self) -> str:
        service = self.app.describe_service()
        return str(next(d for d in service["deployments"] if d["status"] == "PRIMARY")["id"])

    def later(self, minutes: int, event: dict[str, Any]) -> None:
        self.pending.append((self.now + dt.timedelta(minutes=minutes), event))

    def due_events(self) -> None:
        due = [event for at, event in self.pending if at <= self.now]
        self.pending = [(at, event) for at, event in self.pending if at > self.now]
        for event in due:
            stamped = {**event, "time": zulu(self.now)}
            stamped["detail"] = {
                **event["detail"],
                "updatedAt": zulu(self.now).replace("Z", ".000Z"),
            }
            self.put_event(stamped)


def deployment_event(
    reference: str, service_arn: str, deployment_id: str, rollback_to: str | None = None
) -> dict[str, Any]:
    """An ECS Deployment State Change of the reference shape, for `service_arn`'s deployment
    `deployment_id` (the time is set when it is due)."""
    _, _, _, region, account, _ = service_arn.split(":", 5)
    event = (
        copy.deepcopy(payloads.reference(reference))
        if (payloads.DATA / f"{reference}.json").exists()
        else _fixture(reference)
    )
    old_id = event["detail"]["deploymentId"]
    event.update(id=str(uuid.uuid4()), account=account, region=region, resources=[service_arn])
    detail = event["detail"]
    detail["deploymentId"] = deployment_id
    reason = str(detail["reason"]).replace(old_id, deployment_id)
    if rollback_to is not None:
        reason = reason.rsplit("deploymentId ", 1)[0] + f"deploymentId {rollback_to}."
    detail["reason"] = reason
    return event


def _fixture(name: str) -> dict[str, Any]:
    path = Project.at().root / "tests" / "fixtures" / "reference" / f"{name}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


# ---------------------------------------------------------------------------------- the week
def with_holiday(text: str, holiday: dt.date) -> str:
    """The policy text with `holiday` added to the schedule's `except` list.

    >>> with_holiday("    except: [2026-12-24]\\n", dt.date(2026, 10, 21))
    '    except: [2026-10-21, 2026-12-24]\\n'
    """
    marker = "except: ["
    if marker not in text:
        raise ValueError("the policy's schedule has no `except: [...]` list to add the holiday to")
    return text.replace(marker, f"{marker}{holiday.isoformat()}, ", 1)


def without_digest(text: str) -> str:
    """The policy text with every route immediate: no `deliver: digest`, no digest time.

    >>> text = "  digest: {at: '08:00'}\\n  routes:\\n    - to: [a]\\n      deliver: digest\\n"
    >>> print(without_digest(text))
      routes:
        - to: [a]
    <BLANKLINE>
    """
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if line.strip() != "deliver: digest" and not line.strip().startswith("digest:")
    ]
    if len(kept) == len(text.splitlines()):
        raise ValueError("the policy has no digest to leave out")
    return "".join(kept)


Checkpoint = Callable[[list[Message], list[Run], FleetFacts, dict[str, Any]], None]


def play_week(
    week: Week,
    *,
    progress: Callable[[str], None] = print,
    begin: dt.datetime | None = None,
    span: dt.timedelta | None = None,
    checkpoint: Checkpoint | None = None,
    policy_file: Path | None = None,
    digest: bool = True,
) -> tuple[list[Message], list[Run], FleetFacts, dict[str, Any]]:
    """Set up and play the week (or `span` of it from `begin`); the chat transcript, every
    function run, the fleet's facts, and figures about the run (wall time, invocations).
    `checkpoint` gets the same every simulated hour (a long play can be read before it ends).
    `policy_file` replaces policy/week.yaml (the same week under another policy, e.g. without
    the digest routes, to compare what the channel gets). `digest=False` plays it with every
    route immediate (without_digest): the week's channel as it was before the digest."""
    began = time.monotonic()
    project = Project.at()
    source_path = policy_file or project.root / "policy" / WEEK_POLICY
    policy = load_policy(source_path)
    week_policy = Path(project.state_dir / "week" / f"{source_path.stem}-{os.getpid()}.yaml")
    week_policy.parent.mkdir(parents=True, exist_ok=True)
    text = with_holiday(source_path.read_text(encoding="utf-8"), week.holiday)
    week_policy.write_text(text if digest else without_digest(text), encoding="utf-8")
    with (
        FleetHealth.for_url(policy.section("canaries")[0]["url"]) as health,
        InProcessCloud.start(aws_answers=False, keep_alive=True) as cloud,
        WebhookReceiver() as receiver,
    ):
        assert isinstance(health, FleetHealth)
        endpoint = cloud.endpoint
        source = publish_demo_policy(endpoint, week_policy, health)
        parameters = {**PARAMETERS, "PolicySource": source.reference}
        stack = ensure_stack(endpoint, project, parameters=parameters)
        seed_webhook_secrets(stack, receiver.url)
        app = deploy_example_app(
            endpoint, parameters={"NightshiftOpsTopicArn": stack.outputs["OpsTopicArn"]}
        )
        production = Fleet(endpoint)
        production.ecs_service(
            "todoapp-production", "todoapp-backend-production", 3, (3, 12), PRODUCTION_TAGS
        )
        production.rds_instance("todoapp-production-db", tags=PRODUCTION_TAGS)
        _snapshots(stack, app)
        start = begin or week.start
        play = WeekPlay(week, stack, app, receiver, health, production, cloud.proxy, now=start)
        play.production_before = _plain(production.observe())
        play.setup_seconds = time.monotonic() - began
        progress(f"local cloud ready in {play.setup_seconds:.0f} s; playing from {start} ...")
        try:
            with play.timed("the walk, in all"):
                _walk(play, progress, start, span, checkpoint, began)
        finally:
            with play.timed("sandboxes closed, their calls judged"):
                play.invoker.close()
        return play.record(began)


def _walk(
    play: WeekPlay,
    progress: Callable[[str], None],
    start: dt.datetime,
    span: dt.timedelta | None,
    checkpoint: Checkpoint | None,
    began: float,
) -> None:
    week = play.week
    schedules = play.schedules()
    (canary_every,) = [due.every for _, due, runs in schedules if "CanaryFunction" in runs]
    if canary_every is None:
        raise ValueError("the canary's schedule is not a rate(...): its alarms' period is unknown")
    injections = [(at, kind) for at, kind in week.injections() if at >= start]
    settings = play.stack.endpoint.client("lambda").get_function_configuration(
        FunctionName=play.stack.function_name("CanaryFunction")
    )["Environment"]["Variables"]
    rules = AlarmRules(
        environment=settings["NIGHTSHIFT_ENVIRONMENT"],
        namespace=settings["POWERTOOLS_METRICS_NAMESPACE"],
        topic_arn=play.stack.outputs["OpsTopicArn"],
        period_seconds=int(canary_every.total_seconds()),
    )
    # The canary's alarms only: moto has no AWS/Lambda metrics, so the functions' own alarms
    # (errors, "scheduler silent") would judge the local cloud, not the app (as in the demo).
    evaluator = AlarmEvaluator(
        play.stack.endpoint,
        play.router,
        alarm_name_prefix=rules.prefix,
        alarms_unchanged=Writes(play.proxy, ALARM_WRITES).none_since,
    )
    tasks, _ = play.follow_fleet()
    hour_began = time.monotonic()
    end = week.end if span is None else min(week.end, start + span)
    at = start
    while at < end:
        play.now = at
        elapsed = at - week.start
        if elapsed % dt.timedelta(hours=1) == dt.timedelta(0):
            if at > start:
                play.hours.append(round(time.monotonic() - hour_began, 1))
            hour_began = time.monotonic()
            if elapsed % dt.timedelta(days=1) == dt.timedelta(0) or at == start:
                progress(
                    f"  {week.local_label(at)}: {len(play.messages)} chat messages so far, "
                    f"{time.monotonic() - began:.0f} s"
                )
            if checkpoint is not None and at > start:
                checkpoint(*play.record(began))
        with play.timed("injections"):
            while injections and injections[0][0] <= at:
                play.inject(injections.pop(0)[1])
            play.due_events()
        with play.timed("alarm evaluation"):
            evaluator.evaluate(at)  # CloudWatch's minute; a state change reaches the notifier
        for schedule, due, _ in schedules:
            if not due.fires(at, week.start):
                continue
            results = play.fire(schedule)
            if "SchedulerFunction" in results:
                with play.timed("/health follows the fleet"):
                    tasks = play.after_scheduler(tasks)
            canary = results.get("CanaryFunction")
            waiting = play.started and play.healthy_after_start[-1] is None
            if canary is not None and waiting and _all_up(canary):
                play.healthy_after_start[-1] = at
        with play.timed("chat"):
            play.deliver_chat()
        at += MINUTE
        play.played_until = at


def _all_up(result: Mapping[str, Any]) -> bool:
    checks = [i for i in result.get("items", []) if i.get("kind") == "http-check"]
    return bool(checks) and all(str(i.get("reason", "")).startswith("up") for i in checks)


def _snapshots(stack: Stack, app: ExampleApp) -> None:
    """Manual snapshots of the staging database, for the pruner's nights (as in the demo)."""
    rds = stack.endpoint.client("rds")
    for number in range(1, 7):
        rds.create_db_snapshot(
            DBSnapshotIdentifier=f"{app.db_instance_id}-manual-{number}",
            DBInstanceIdentifier=app.db_instance_id,
            Tags=[{"Key": "Environment", "Value": "staging"}],
        )


def _plain(observed: Mapping[str, Any]) -> dict[str, str]:
    return {name: repr(value) for name, value in sorted(observed.items())}


def _touched(runs: list[Run], before: Mapping[str, Any]) -> tuple[str, ...]:
    """Production resources a function acted on (an item done or failed naming them)."""
    names = tuple(before)
    touched = []
    for run in runs:
        for item in run.payload.get("items", []):
            resource = str(item.get("resource", ""))
            if item.get("outcome") in ("done", "failed") and any(n in resource for n in names):
                touched.append(f"{run.function} {item.get('action')} {resource}")
    return tuple(touched)
