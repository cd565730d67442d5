"""The steps of the day, in order. Each plays one situation through the built functions, writes
what happened to the timeline, and returns a one-line summary, or raises StepFailed saying why
the outcome it plays for did not come.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localcloud.alarms import AlarmEvaluator, AlarmState
from localcloud.demo.actions_scenes import (
    evening_stop_skips_kept_staging,
    heads_up_keeps_staging_running,
    release_waits_for_approval,
)
from localcloud.demo.cloud import DemoCloud, StagingState, StepFailed
from localcloud.demo.day import DemoDay, zulu
from localcloud.demo.health_app import DEGRADED, HEALTHY
from localcloud.demo.payloads import budget_alert, deployment_completed_event
from localcloud.receiver import format_chat_message
from nightshift.canary.alarms import AlarmRules, CheckAlarmKind

MINUTE = dt.timedelta(minutes=1)
EVENING_STOP = "20:00"  # when staging is parked: the stop (19:00) plus the hour kept running
# The canary step, one canary run per tick of its schedule: healthy runs first, then the app
# degrades; it recovers once the ALARM reached chat. The down alarm fires on 3 failed runs of the
# last 5 (docs/canary.md), so both come within a few runs.
HEALTHY_RUNS_FIRST = 2
CANARY_RUNS = 20
MORNING_RUNS = 3  # databases first, then compute once they are available
RDS_SNAPSHOTS = 6
EBS_SNAPSHOTS = 5


@dataclass
class Evening:
    """What the evening leaves for the morning: staging as it was before it was parked."""

    before: StagingState | None = None


@dataclass(frozen=True)
class Step:
    """One moment of the day: its local time, what it shows, and how it is played."""

    clock: str
    title: str
    play: Callable[[DemoCloud, Evening], str]
    next_day: bool = False

    def label(self, day: DemoDay) -> str:
        """The step's local weekday and time: `Thu 09:00`, `Fri 02:00`."""
        return f"{day.local(day.at(self.clock, next_day=self.next_day)):%a %H:%M}"


# -------------------------------------------------------------------------------- 09:00
def push_redeploys_backend(cloud: DemoCloud, _: Evening) -> str:
    """A CI push of `main-<sha>` reaches redeploy through the template's ECR rule; the service
    gets one new digest-pinned revision; ECS then reports the deployment completed."""
    app, timeline = cloud.app, cloud.timeline
    at = cloud.day.at("09:00")
    tag = f"main-{hashlib.sha1(cloud.day.date.isoformat().encode()).hexdigest()[:7]}"
    before = app.describe_service()["taskDefinition"]
    digest, event = app.push_image(tag, at=at)
    timeline.at(at, f"CI pushes {app.repository_name}:{tag} to ECR: {digest}")
    report = cloud.router.put_event(event)
    result = _only_function_result(cloud, report.matched_rules, report.deliveries, "push")
    timeline.at(at, f"redeploy: {result['summary']}")
    item = _item(result, app.service_arn)
    if item.get("outcome") != "done":
        raise StepFailed(f"redeploy did not deploy {app.service_name}: {item.get('reason')}")
    service = app.describe_service()
    revision = service["taskDefinition"]
    images = _images(cloud, revision)
    pinned = f"{app.repository_uri}@{digest}"
    timeline.detail(f"task definition {_short(before)} -> {_short(revision)}, image {pinned}")
    if revision == before or pinned not in images:
        raise StepFailed(f"the service runs {_short(revision)} with {images}, not {pinned}")
    cloud.deliver_chat()

    deployment = next(d for d in service["deployments"] if d["status"] == "PRIMARY")["id"]
    completed_at = at + 4 * MINUTE
    completed = deployment_completed_event(
        service_arn=app.service_arn,
        deployment_id=deployment,
        at=completed_at,
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, deployment)),
    )
    timeline.at(completed_at, f"ECS: deployment {deployment} completed")
    report = cloud.router.put_event(completed)
    outcome = _only_function_result(cloud, report.matched_rules, report.deliveries, "deployment")
    timeline.at(completed_at, f"redeploy: {outcome['summary']}")
    messages = cloud.deliver_chat()
    if not any(deployment in format_chat_message(m.json) for m in messages):
        raise StepFailed(f"no chat message named deployment {deployment}")
    return f"{tag} runs as {_short(revision)}; deployment {deployment} completed"


# -------------------------------------------------------------------------------- 13:00
def canary_sees_degrade_and_recovery(cloud: DemoCloud, _: Evening) -> str:
    """The canary probes the health app every minute and CloudWatch evaluates its down alarm
    every minute; the app degrades until the ALARM reached chat, then recovers until the OK did."""
    timeline, health = cloud.timeline, cloud.health
    check = cloud.canaries[0]["name"]
    tick = cloud.schedule_rate("CanaryFunction")
    settings = cloud.environment("CanaryFunction")
    rules = AlarmRules(
        environment=settings["NIGHTSHIFT_ENVIRONMENT"],
        namespace=settings["POWERTOOLS_METRICS_NAMESPACE"],
        topic_arn=cloud.stack.outputs["OpsTopicArn"],
        period_seconds=int(tick.total_seconds()),
    )
    down_alarm = rules.name(CheckAlarmKind.DOWN, check)
    # Only the canary's alarms: moto has no AWS/Lambda metrics, so the functions' own alarms
    # (errors, "scheduler silent") would judge the local cloud, not the app.
    evaluator = AlarmEvaluator(cloud.stack.endpoint, cloud.router, alarm_name_prefix=rules.prefix)
    start = cloud.day.at("13:00")
    health.recover()
    timeline.at(start, f"the app is healthy: {health.url} answers {HEALTHY.status}")
    alarm_seen_at: dt.datetime | None = None
    ok_seen_at: dt.datetime | None = None
    for run in range(CANARY_RUNS):
        at = start + run * tick
        if run == HEALTHY_RUNS_FIRST:
            health.degrade()
            timeline.at(at, f"the app degrades: /health answers {DEGRADED.status}, database down")
        report = cloud.evaluate_alarms(evaluator, at)
        transition = report.transition(down_alarm)
        if transition is not None and _reached_chat(cloud, down_alarm):
            if transition.new_state is AlarmState.ALARM:
                alarm_seen_at = at
                health.recover()
                timeline.at(
                    at, f"someone fixes the database pool: /health answers {HEALTHY.status} again"
                )
            elif transition.new_state is AlarmState.OK and alarm_seen_at is not None:
                ok_seen_at = at
                break
        result = cloud.fire("CanaryFunction", at)
        for line in _canary_lines(result):
            timeline.at(at, line)
        cloud.deliver_chat()
    if alarm_seen_at is None:
        raise StepFailed(f"{down_alarm} never reached chat in ALARM in {CANARY_RUNS} canary runs")
    if ok_seen_at is None:
        raise StepFailed(f"{down_alarm} reached ALARM but its OK never reached chat")
    return (
        f"{down_alarm}: ALARM in chat at {cloud.day.local(alarm_seen_at):%H:%M}, "
        f"OK at {cloud.day.local(ok_seen_at):%H:%M}"
    )


def _reached_chat(cloud: DemoCloud, alarm: str) -> bool:
    last = cloud.receiver.requests[-1:] if cloud.receiver.requests else []
    return any(alarm in format_chat_message(request.json) for request in last)


def _canary_lines(result: Mapping[str, Any]) -> list[str]:
    """What one canary run saw (`canary probes backend: up: ...`) and the alarms it kept."""
    lines = []
    for item in result.get("items", []):
        if item.get("kind") == "http-check":
            lines.append(f"canary probes {item.get('resource')}: {item.get('reason')}")
        elif item.get("kind") == "cloudwatch-alarm":
            lines.append(
                f"canary: alarm {item.get('resource')}: {item.get('action')} "
                f"{str(item.get('outcome')).upper()} - {item.get('reason')}"
            )
    return lines or [f"canary: {result.get('summary')}"]


# -------------------------------------------------------------------------------- 18:00
def budget_alert_reaches_chat(cloud: DemoCloud, _: Evening) -> str:
    """AWS Budgets publishes the example app's ACTUAL alert (its 80 % notification) to the
    address the budget's subscriber names: Nightshift's ops topic."""
    at = cloud.day.at("18:00")
    alert = budget_alert(account=cloud.stack.account_id, day=cloud.day.date)
    name = alert.message.split("Budget Name: ", 1)[-1].split("\n", 1)[0]
    budgets = cloud.stack.endpoint.client("budgets")
    budget = budgets.describe_budget(AccountId=cloud.stack.account_id, BudgetName=name)["Budget"]
    notifications = budgets.describe_notifications_for_budget(
        AccountId=cloud.stack.account_id, BudgetName=name
    )["Notifications"]
    limit = budget["BudgetLimit"]
    cloud.timeline.at(
        at,
        f"the example app's budget {name}: {limit['Amount']} {limit['Unit']} a month, alerts at "
        + ", ".join(
            f"{n['NotificationType']} > {n['Threshold']:g} %"
            for n in notifications
            if n.get("ThresholdType") == "PERCENTAGE"
        ),
    )
    topic = cloud.app.parameters["NightshiftOpsTopicArn"]
    cloud.timeline.at(at, f'AWS Budgets publishes "{alert.subject}" to {topic}')
    report = cloud.router.publish(topic, alert.message, alert.subject)
    messages = cloud.deliver_chat(report.drains)
    if not any(name in format_chat_message(m.json) for m in messages):
        raise StepFailed(f"no chat message named the budget {name}")
    return f"{name}: actual cost over its 80 % threshold, in chat"


# -------------------------------------------------------------------------------- 20:00
def evening_stop_parks_staging(cloud: DemoCloud, evening: Evening) -> str:
    """The scheduler's run at 20:00 (the stop is 19:00; the heads-up's click kept staging up an
    hour longer, actions_scenes.py) parks the service (desiredCount and autoscaling min/max)
    and stops the database, remembering exactly what it parked."""
    at = cloud.day.at(EVENING_STOP)
    evening.before = before = cloud.staging()
    cloud.timeline.at(at, f"staging runs: {before.describe()}")
    result = _scheduler_run(cloud, at)
    after = cloud.staging()
    cloud.timeline.at(at, f"staging now: {after.describe()}")
    if (after.desired, after.minimum, after.maximum, after.database) != (0, 0, 0, "stopped"):
        raise StepFailed(f"staging is not parked: {after.describe()}")
    hours = result.get("totals", {}).get("hours_saved")
    saved = f"; {hours:g} hours saved until the morning" if isinstance(hours, int | float) else ""
    return f"staging parked (it ran with {before.describe()}){saved}"


# -------------------------------------------------------------------------------- 02:00
def rds_wakes_and_is_stopped_again(cloud: DemoCloud, _: Evening) -> str:
    """RDS starts a database stopped for 7 days by itself; with `enforce: true` the next
    scheduler run stops it again."""
    at = cloud.day.at("02:00", next_day=True)
    database = cloud.app.db_instance_id
    cloud.stack.endpoint.client("rds").start_db_instance(DBInstanceIdentifier=database)
    woken = cloud.staging()
    cloud.timeline.at(at, f"RDS starts {database} by itself (the 7-day restart): {woken.database}")
    if woken.database != "available":
        raise StepFailed(f"{database} did not wake up in moto: {woken.database}")
    _scheduler_run(cloud, at)
    after = cloud.staging()
    cloud.timeline.at(at, f"staging now: {after.describe()}")
    if after.database != "stopped" or after.desired != 0:
        raise StepFailed(f"staging is not parked again: {after.describe()}")
    return f"{database} stopped again, the service still parked"


# -------------------------------------------------------------------------------- 03:00
def pruner_plans_and_prunes(cloud: DemoCloud, _: Evening) -> str:
    """Manual snapshots of the staging database (and of a staging volume) beforehand; the
    pruner's plan on demand (dry run), then its scheduled run deletes what the plan said."""
    at = cloud.day.at("03:00", next_day=True)
    made = _make_snapshots(cloud)
    cloud.timeline.at(
        None,
        f"beforehand: {len(made)} manual snapshots tagged Environment=staging "
        f"({RDS_SNAPSHOTS} of {cloud.app.db_instance_id}, {EBS_SNAPSHOTS} of one EBS volume); "
        "moto stamps them with the real clock, so they show as 0 minutes old",
    )
    plan = cloud.invoke("PrunerFunction", {"time": zulu(at), "dry_run": True})
    cloud.timeline.at(at, f"pruner (dry run, invoked by hand): {plan['summary']}")
    _show_decisions(cloud, plan)
    cloud.deliver_chat()
    planned = {i["resource"] for i in plan.get("items", []) if i.get("outcome") == "planned"}
    if not planned:
        raise StepFailed("the plan deletes nothing")

    result = cloud.fire("PrunerFunction", at)
    cloud.timeline.at(at, f"pruner (scheduled): {result['summary']}")
    cloud.deliver_chat()
    deleted = {i["resource"] for i in result.get("items", []) if i.get("outcome") == "done"}
    remaining = _snapshot_ids(cloud)
    if deleted != planned or planned & remaining:
        raise StepFailed(
            f"planned {sorted(planned)}, deleted {sorted(deleted)}, "
            f"still there {sorted(planned & remaining)}"
        )
    if not set(made) - planned <= remaining:
        raise StepFailed(f"kept snapshots are gone: {sorted(set(made) - planned - remaining)}")
    return f"{len(deleted)} of {len(made)} manual snapshots deleted, as planned"


def _make_snapshots(cloud: DemoCloud) -> list[str]:
    rds, ec2 = (cloud.stack.endpoint.client(s) for s in ("rds", "ec2"))
    staging = [{"Key": "Environment", "Value": "staging"}]
    made = []
    for number in range(1, RDS_SNAPSHOTS + 1):
        identifier = f"{cloud.app.db_instance_id}-manual-{number}"
        rds.create_db_snapshot(
            DBSnapshotIdentifier=identifier,
            DBInstanceIdentifier=cloud.app.db_instance_id,
            Tags=staging,
        )
        made.append(identifier)
    zone = f"{cloud.stack.endpoint.region}a"
    volume = ec2.create_volume(
        AvailabilityZone=zone,
        Size=20,
        TagSpecifications=[{"ResourceType": "volume", "Tags": staging}],
    )["VolumeId"]
    for number in range(1, EBS_SNAPSHOTS + 1):
        snapshot = ec2.create_snapshot(
            VolumeId=volume,
            Description=f"staging volume, backup {number}",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": staging}],
        )
        made.append(snapshot["SnapshotId"])
    return made


def _snapshot_ids(cloud: DemoCloud) -> set[str]:
    rds, ec2 = (cloud.stack.endpoint.client(s) for s in ("rds", "ec2"))
    found = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]}
    found |= {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    return found


def _show_decisions(cloud: DemoCloud, plan: Mapping[str, Any]) -> None:
    for item in plan.get("items", []):
        cloud.timeline.detail(
            f"{item.get('kind')} {item.get('resource')}: {item.get('action')} "
            f"{str(item.get('outcome')).upper()} - {item.get('reason')}"
        )
    totals = plan.get("totals", {})
    why = [f"{key[len('keep: ') :]} {n}" for key, n in totals.items() if key.startswith("keep: ")]
    cloud.timeline.detail(f"kept: {totals.get('keep', 0)} ({', '.join(why) or 'none'})")


# -------------------------------------------------------------------------------- 07:30
def morning_start_restores_staging(cloud: DemoCloud, evening: Evening) -> str:
    """The scheduler's morning runs start the database first, then the service, exactly as it
    was parked: desiredCount and autoscaling min/max."""
    if evening.before is None:
        raise StepFailed("the evening step did not run, so there is nothing to compare with")
    start = cloud.day.at("07:30", next_day=True)
    every = cloud.schedule_rate("SchedulerFunction")
    for run in range(MORNING_RUNS):
        at = start + run * every
        _scheduler_run(cloud, at)
        now = cloud.staging()
        cloud.timeline.at(at, f"staging now: {now.describe()}")
        if now == evening.before:
            return f"staging runs exactly as at 19:00: {now.describe()}"
    raise StepFailed(
        f"after {MORNING_RUNS} runs staging is {cloud.staging().describe()}, "
        f"not {evening.before.describe()}"
    )


# --------------------------------------------------------------------------------- shared
def _scheduler_run(cloud: DemoCloud, at: dt.datetime) -> dict[str, Any]:
    result = cloud.fire("SchedulerFunction", at)
    cloud.timeline.at(at, f"scheduler: {result['summary']}")
    for item in result.get("items", []):
        if item.get("resource") in (cloud.app.service_arn, cloud.app.db_instance_arn):
            cloud.timeline.detail(
                f"{item.get('kind')} {_short(str(item.get('resource')))}: {item.get('action')} "
                f"{str(item.get('outcome')).upper()} - {item.get('reason')}"
            )
    cloud.deliver_chat()
    failed = [i for i in result.get("items", []) if i.get("outcome") == "failed"]
    if failed:
        raise StepFailed(f"the scheduler failed on {[i['resource'] for i in failed]}")
    return result


def _only_function_result(
    cloud: DemoCloud, rules: Sequence[str], deliveries: Sequence[Any], what: str
) -> dict[str, Any]:
    if len(deliveries) != 1 or deliveries[0].result is None:
        raise StepFailed(f"the {what} event matched {list(rules) or 'no rule'}, not one function")
    delivery = deliveries[0]
    function = cloud.stack.function_for(delivery.target)
    cloud.timeline.at(None, f"EventBridge rule {rules[0]} -> {function}")
    return cloud.payload(delivery.result)


def _item(result: Mapping[str, Any], resource: str) -> Mapping[str, Any]:
    found = [i for i in result.get("items", []) if i.get("resource") == resource]
    if len(found) != 1:
        raise StepFailed(f"the report has no single item for {resource}: {result.get('summary')}")
    return found[0]


def _images(cloud: DemoCloud, task_definition: str) -> list[str]:
    described = cloud.stack.endpoint.client("ecs").describe_task_definition(
        taskDefinition=task_definition
    )
    return [c["image"] for c in described["taskDefinition"]["containerDefinitions"]]


def _short(arn: str) -> str:
    """The name in an ARN, as people say it.

    >>> _short("arn:aws:ecs:eu-central-1:1:task-definition/todoapp-backend:3")
    'todoapp-backend:3'
    >>> _short("arn:aws:rds:eu-central-1:1:db:todoapp-postgres")
    'todoapp-postgres'
    """
    if not arn.startswith("arn:"):
        return arn
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


THE_DAY: tuple[Step, ...] = (
    Step("09:00", "a push of main-<sha> redeploys the backend", push_redeploys_backend),
    Step("13:00", "the canary sees the app degrade and recover", canary_sees_degrade_and_recovery),
    Step("14:00", "a release to production waits for approval, approved from chat",
         release_waits_for_approval),
    Step("18:00", "a budget alert at 80 %", budget_alert_reaches_chat),
    Step("18:30", "a heads-up before the stop, keep running 1 h is clicked",
         heads_up_keeps_staging_running),
    Step("19:00", "the stop keeps staging running, as clicked", evening_stop_skips_kept_staging),
    Step(EVENING_STOP, "the scheduler stops staging", evening_stop_parks_staging),
    Step("02:00", "RDS wakes up by itself and is stopped again", rds_wakes_and_is_stopped_again,
         next_day=True),
    Step("03:00", "the pruner plans, then prunes", pruner_plans_and_prunes, next_day=True),
    Step("07:30", "staging starts exactly as it was", morning_start_restores_staging,
         next_day=True),
)  # fmt: skip
