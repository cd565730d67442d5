"""Noise control: whether a notification is a repeat of a state people already know about.

Pure: the caller loads the last AlarmMemory for `n.dedup_key`, passes the time, and stores what
the decision says to remember. The rules, in order:

1. An unrecognised message is never suppressed (we cannot tell what it repeats).
2. A retry of the very message that set the memory (same SNS MessageId) is sent: it is a retry
   after a failed delivery, not a repeat.
3. Nothing remembered: send, and remember; except a new alarm's first verdict, which is
   remembered and not sent: an OK (or INSUFFICIENT_DATA) that leaves INSUFFICIENT_DATA is how
   every new alarm starts, and says nothing anyone needs to hear. An OK that leaves ALARM with
   no open ALARM on record is still sent, marked as such: the ALARM may predate Nightshift or
   its memory, and a resolution nobody sees is worse than one too many.
4. Older than what is remembered (SQS does not keep order): a copy of the remembered state within
   the window is suppressed; anything else is sent, marked as late, and the memory is kept.
5. The same state again within the repeat window: suppressed. After the window: sent again as a
   reminder, and the window starts over.
6. A new state: sent, and remembered. An OK that follows an ALARM says how long it was open.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from nightshift.notify.model import Fact, Notification, Source, State
from nightshift.notify.render.presentation import shown_time
from nightshift.notify.sources.reading import instant


@dataclass(frozen=True)
class AlarmMemory:
    """The last state sent for one dedup key, since when, and by which message."""

    dedup_key: str
    state: State
    since: datetime
    message_id: str | None = None


@dataclass(frozen=True)
class SuppressionDecision:
    send: bool
    reason: str
    remember: AlarmMemory | None  # None: leave the stored memory as it is
    annotation: Fact | None = None  # what people should know about this message's place in time

    def applied_to(self, n: Notification) -> Notification:
        """`n` with the annotation (resolved after, no open alarm, arrived late) as first fact."""
        if self.annotation is None:
            return n
        return replace(n, facts=(self.annotation, *n.facts))


def decide(
    n: Notification,
    last: AlarmMemory | None,
    at: datetime,
    window: timedelta,
    message_id: str | None = None,
) -> SuppressionDecision:
    """Send or suppress `n`, given the memory for its dedup key and the time `at` of the event.

    >>> from nightshift.notify.model import Severity
    >>> alarm = Notification(Source.CLOUDWATCH_ALARM, Severity.CRITICAL, State.ALARM,
    ...                      "ALARM: cpu", "cpu", "", (), (), "cw:cpu", "")
    >>> t0 = datetime(2026, 11, 20, 18, 4, tzinfo=UTC)
    >>> first = decide(alarm, None, t0, timedelta(minutes=60))
    >>> first.send, first.remember.state.value
    (True, 'alarm')
    >>> again = decide(alarm, first.remember, t0 + timedelta(minutes=5), timedelta(minutes=60))
    >>> again.send, again.reason
    (False, 'repeat of ALARM sent 5 min ago, within the 60 min repeat window')
    >>> ok = replace(alarm, state=State.OK)
    >>> decide(ok, first.remember, t0 + timedelta(minutes=20), timedelta(minutes=60)).annotation
    Fact(label='Resolved after', value='20 min (ALARM since 2026-11-20 18:04:00 UTC)')
    """
    at = _aware(at)
    memory = AlarmMemory(n.dedup_key, n.state, at, message_id)
    if n.source is Source.UNRECOGNISED:
        return SuppressionDecision(True, "unrecognised messages are never suppressed", None)
    if last is not None and last.dedup_key != n.dedup_key:
        raise ValueError(f"memory for {last.dedup_key!r} passed for {n.dedup_key!r}")
    if last is None and _first_verdict(n):
        return SuppressionDecision(
            False,
            f"a new alarm's first verdict ({State.INSUFFICIENT_DATA.name} → {n.state.name}): "
            "remembered, not sent",
            memory,
        )
    if last is None:
        return SuppressionDecision(
            True,
            f"first {n.state.name} on record",
            memory,
            _NO_OPEN_ALARM if n.state is State.OK else None,
        )
    since = _aware(last.since)
    if message_id is not None and message_id == last.message_id:
        return SuppressionDecision(True, "retry of the message that set the memory", None)
    age = at - since
    if n.state is last.state and abs(age) < window:
        return SuppressionDecision(
            False,
            f"repeat of {n.state.name} sent {_elapsed(abs(age))} ago, within the "
            f"{_elapsed(window)} repeat window",
            None,
        )
    if age < timedelta(0):
        late = Fact(
            "Arrived late",
            f"this {n.state.name} is older than the {last.state.name} of "
            f"{shown_time(since.isoformat())}, which is the latest state known",
        )
        return SuppressionDecision(True, f"older than the remembered {last.state.name}", None, late)
    if n.state is last.state:
        return SuppressionDecision(
            True,
            f"repeat of {n.state.name} last sent {_elapsed(age)} ago, beyond the "
            f"{_elapsed(window)} repeat window",
            memory,
            _NO_OPEN_ALARM if n.state is State.OK else None,
        )
    return SuppressionDecision(
        True, f"{last.state.name} → {n.state.name}", memory, _transition(n.state, last, age)
    )


def paired(n: Notification, last: AlarmMemory | None) -> tuple[Notification, str]:
    """A resolve that may close nothing (`n.unpaired_key`: a deployment that completed) is the
    OK of its incident only while that incident's page is open (`last` is an ALARM); otherwise
    it is routine information under its own key (a deploy that simply worked), so it neither
    says "no open ALARM" nor skips the digest. Anything else is left as it is.

    >>> from nightshift.notify.model import Severity
    >>> done = Notification(Source.NIGHTSHIFT_REPORT, Severity.INFO, State.OK, "redeploy: done",
    ...     "redeploy", "", (), (), "incident:svc", "", unpaired_key="nightshift-report:r:e-2")
    >>> paired(done, None)[0].dedup_key, paired(done, None)[1]
    ('nightshift-report:r:e-2', 'no open page for incident:svc: routine')
    >>> page = AlarmMemory("incident:svc", State.ALARM, datetime(2026, 11, 20, tzinfo=UTC))
    >>> paired(done, page)[0].state.name, paired(done, page)[1]
    ('OK', 'closes the open page of incident:svc')
    """
    if n.unpaired_key is None:
        return n, "not a resolve that may close nothing"
    if last is not None and last.state is State.ALARM:
        return n, f"closes the open page of {n.dedup_key}"
    routine = replace(n, state=State.INFO, dedup_key=n.unpaired_key, unpaired_key=None)
    return routine, f"no open page for {n.dedup_key}: routine"


def _first_verdict(n: Notification) -> bool:
    """A state change out of INSUFFICIENT_DATA into anything but ALARM: the first evaluation
    of a new alarm (or one whose data came back), which nobody was told had gone missing."""
    return n.previous_state is State.INSUFFICIENT_DATA and n.state is not State.ALARM


def event_time(n: Notification, fallback: datetime) -> datetime:
    """When the thing happened (the alarm's state change time, the event's time), for `decide`;
    `fallback` (say, when SQS received the message) if the notification does not say."""
    return instant(n.occurred_at) or _aware(fallback)


_NO_OPEN_ALARM = Fact(
    "Note",
    "no open ALARM on record for this alarm (it may have opened before Nightshift was watching)",
)


def _transition(state: State, last: AlarmMemory, open_for: timedelta) -> Fact | None:
    if state is not State.OK:
        return None
    since = f"{last.state.name} since {shown_time(_aware(last.since).isoformat())}"
    if last.state is State.ALARM:
        return Fact("Resolved after", f"{_elapsed(open_for)} ({since})")
    return Fact("Back to OK after", f"{_elapsed(open_for)} ({since})")


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _elapsed(delta: timedelta) -> str:
    """>>> _elapsed(timedelta(seconds=40)), _elapsed(timedelta(minutes=185))
    ('40 s', '3 h 5 min')
    >>> _elapsed(timedelta(minutes=60)), _elapsed(timedelta(days=2))
    ('60 min', '2 days')
    """
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 2 * 3600:  # "90 min" reads better than "1 h 30 min" for short spans
        return f"{seconds // 60} min"
    minutes, hours, days = seconds // 60 % 60, seconds // 3600 % 24, seconds // 86400
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    return f"{hours} h" + (f" {minutes} min" if minutes else "")
