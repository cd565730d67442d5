"""The SQS engine beyond the in-invocation bound (docs/organization.md, decision 24): the pure
parts. A run with more targets than `targets.queue_above` sends one message per target to the
function's own FIFO queue; the same function, invoked by the queue, works that one target and
records its outcome under the run in the state table; whoever records the last outcome publishes
the run's one report.

- `TargetMessage`: the work item and what every target of the run must decide from alike (the
  run's scheduled time, its dry-run flag, the last run's time as the run read it once), as a
  JSON message body and back; its group is the target (a FIFO queue works one target's messages
  in order, one at a time: two runs' workers never act on one target at once), its
  de-duplication id the run and the target (a retried send within five minutes is dropped);
- `batches`: at most 10 entries a `SendMessageBatch`;
- `gather_due`: whether a recorded outcome completes the run, and who publishes;
- `outstanding`: the targets that have not recorded an outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from nightshift.errors import EventError
from nightshift.fanout.plan import WorkItem

VERSION = 1
SEND_BATCH = 10  # SendMessageBatch's limit
_ID = re.compile(r"[^A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]")


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TargetMessage:
    """One target of a queued run.

    >>> item = WorkItem("222222222222", "eu-west-1", "arn:aws:iam::222222222222:role/r", "staging")
    >>> at = dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC)
    >>> message = TargetMessage("scheduler", at, None, 3, 7, item)
    >>> TargetMessage.from_body(message.body()) == message
    True
    >>> message.group, message.deduplication_id
    ('scheduler#222222222222#eu-west-1', 'scheduler-2026-11-20T18:00:00Z#222222222222#eu-west-1')
    """

    function: str
    time: dt.datetime
    last_run: dt.datetime | None
    index: int  # the target's place in the policy's order (the report keeps it)
    total: int  # how many targets the run queued
    item: WorkItem

    @property
    def run(self) -> str:
        """The run's id: one per scheduled time, as the in-invocation report's."""
        return f"{self.function}-{_instant(self.time)}"

    @property
    def target(self) -> str:
        return f"{self.item.account}#{self.item.region}"

    @property
    def group(self) -> str:
        return f"{self.function}#{self.target}"

    @property
    def deduplication_id(self) -> str:
        return _ID.sub("-", f"{self.run}#{self.target}")[:128]

    def body(self) -> str:
        return json.dumps(
            {
                "v": VERSION,
                "function": self.function,
                "time": _instant(self.time),
                "last_run": None if self.last_run is None else _instant(self.last_run),
                "index": self.index,
                "total": self.total,
                "target": {
                    "account": self.item.account,
                    "region": self.item.region,
                    "role_arn": self.item.role_arn,
                    "name": self.item.name,
                    "production": self.item.production,
                },
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_body(cls, body: str) -> TargetMessage:
        """The message a body holds; EventError says what does not fit."""
        try:
            data = json.loads(body)
            target = data["target"]
            if data["v"] != VERSION:
                raise ValueError(f"version {data['v']!r}, not {VERSION}")
            last = data["last_run"]
            message = cls(
                function=str(data["function"]),
                time=dt.datetime.fromisoformat(data["time"]),
                last_run=None if last is None else dt.datetime.fromisoformat(last),
                index=int(data["index"]),
                total=int(data["total"]),
                item=WorkItem(
                    account=str(target["account"]),
                    region=str(target["region"]),
                    role_arn=None if target["role_arn"] is None else str(target["role_arn"]),
                    name=str(target["name"]),
                    production=bool(target["production"]),
                ),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EventError(f"not a queued target: {type(exc).__name__}: {exc}") from exc
        if not 0 <= message.index < message.total:
            raise EventError(f"not a queued target: index {message.index} of {message.total}")
        return message


def run_messages(
    function: str,
    items: Sequence[WorkItem],
    time: dt.datetime,
    last_run: dt.datetime | None,
) -> tuple[TargetMessage, ...]:
    """One message per target, in the policy's order."""
    return tuple(
        TargetMessage(function, time, last_run, index, len(items), item)
        for index, item in enumerate(items)
    )


def batches[T](entries: Iterable[T], size: int = SEND_BATCH) -> Iterator[tuple[T, ...]]:
    """`entries` in batches of at most `size`.

    >>> [len(b) for b in batches(range(23))]
    [10, 10, 3]
    """
    batch: list[T] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == size:
            yield tuple(batch)
            batch = []
    if batch:
        yield tuple(batch)


@dataclass(frozen=True)
class GatherDecision:
    """Whether this worker publishes the run's report now, and why."""

    publish: bool
    reason: str


def gather_due(total: int, recorded: int, counted_now: bool, published: bool) -> GatherDecision:
    """After a worker recorded its target (`counted_now`: this delivery counted it; False: a
    redelivery found it counted already), whether it publishes the run's one report.

    The worker that completes the count publishes; a redelivery of any target of a complete,
    unpublished run publishes too (the worker that completed it failed before publishing).

    >>> gather_due(3, 2, True, False).publish
    False
    >>> gather_due(3, 3, True, False).reason
    'the last of 3 targets recorded: this worker publishes the report'
    >>> gather_due(3, 3, False, True).publish
    False
    >>> gather_due(3, 3, False, False).publish
    True
    """
    if published:
        return GatherDecision(False, "the run's report is published already")
    if recorded < total:
        return GatherDecision(False, f"{recorded} of {total} targets recorded: not the last")
    if counted_now:
        return GatherDecision(
            True, f"the last of {total} targets recorded: this worker publishes the report"
        )
    return GatherDecision(
        True, f"all {total} targets recorded, the report not published: published on redelivery"
    )


OVERDUE = dt.timedelta(hours=1)  # beyond a message's retries: 3 receives x 720 s, and queueing


def overdue_runs(
    open_runs: Iterable[str], now: dt.datetime, after: dt.timedelta = OVERDUE
) -> tuple[str, ...]:
    """The queued runs (their ids, which end in their scheduled time) still waiting for a
    target's outcome `after` their scheduled time: their report is published with what was
    recorded, the targets without an outcome named.

    >>> now = dt.datetime(2026, 11, 20, 19, 5, tzinfo=dt.UTC)
    >>> overdue_runs(["scheduler-2026-11-20T18:00:00Z", "scheduler-2026-11-20T19:00:00Z"], now)
    ('scheduler-2026-11-20T18:00:00Z',)
    """
    late = []
    for run in sorted(open_runs):
        at = dt.datetime.strptime(run[-20:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        if now - at >= after:
            late.append(run)
    return tuple(late)


def outstanding(total: int, recorded: Iterable[int]) -> tuple[int, ...]:
    """The indices of the targets without a recorded outcome.

    >>> outstanding(4, [0, 2])
    (1, 3)
    """
    done = set(recorded)
    return tuple(index for index in range(total) if index not in done)


@dataclass(frozen=True)
class QueueDecision:
    """Whether a run queues its targets (one message each) or works them itself, and why."""

    queue: bool
    reason: str


def queue_decision(
    count: int, queue_above: int | None, dry_run: bool, queue_configured: bool
) -> QueueDecision:
    """Queue when the policy's `targets.queue_above` is set, the run has more targets than it,
    it is no dry run (a dry run returns its plan to whoever asked, so it is worked here), and
    the function has its queue.

    >>> queue_decision(20, 10, False, True).queue
    True
    >>> queue_decision(10, 10, False, True).reason
    '10 targets, queue_above 10: worked in this invocation'
    >>> queue_decision(20, None, False, True).queue, queue_decision(20, 10, True, True).queue
    (False, False)
    """
    if queue_above is None:
        return QueueDecision(False, "no targets.queue_above: worked in this invocation")
    if count <= queue_above:
        return QueueDecision(
            False, f"{count} targets, queue_above {queue_above}: worked in this invocation"
        )
    if dry_run:
        return QueueDecision(False, "a dry run is worked in this invocation, to return its plan")
    if not queue_configured:
        return QueueDecision(
            False, "the function has no target queue (NIGHTSHIFT_TARGET_QUEUE_URL): worked here"
        )
    return QueueDecision(
        True, f"{count} targets, more than queue_above {queue_above}: one message per target"
    )
