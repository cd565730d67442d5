"""The demo's output: a timeline people can read, one step at a time, with the chat messages.

Every line that happens at a moment of the day starts with its local time; each chat message is
shown exactly as the webhook receiver got it, rendered by `localcloud.format_chat_message` (what
`make preview` shows); each step ends with ✓ done or ✗ failed and why; the day ends with a
review of every step.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from localcloud.demo.day import DemoDay
from localcloud.receiver import ReceivedRequest, format_chat_message

WIDTH = 100
DONE, FAILED = "✓ done", "✗ failed"


@dataclass(frozen=True)
class StepResult:
    """How one step of the day went: `summary` says what happened, or why it failed."""

    clock: str
    title: str
    done: bool
    summary: str
    seconds: float = 0.0  # wall time the local cloud took to play it

    @property
    def mark(self) -> str:
        return DONE if self.done else FAILED


@dataclass(frozen=True)
class DayReview:
    """The whole day: every step, the chat messages, the invocations and the wall time."""

    steps: tuple[StepResult, ...]
    messages: int
    invocations: int
    seconds: float

    @property
    def done(self) -> bool:
        return bool(self.steps) and all(step.done for step in self.steps)


def review_lines(review: DayReview) -> list[str]:
    """The review at the end of the day.

    >>> review = DayReview((StepResult("Thu 09:00", "push", True, "redeployed"),
    ...                     StepResult("Thu 18:00", "budget", False, "no message")), 3, 9, 42.0)
    >>> print("\\n".join(review_lines(review)[1:]))
      ✓ done    Thu 09:00  push: redeployed
      ✗ failed  Thu 18:00  budget: no message
    <BLANKLINE>
      1 of 2 steps done, 3 chat messages, 9 function invocations, 42 s
    """
    lines = [_rule("The day in review")]
    for step in review.steps:
        line = f"{step.mark:<8}  {step.clock:<9}  {step.title}: {step.summary}"
        lines += _wrap(line, WIDTH, first="  ", indent=" " * 23)
    done = sum(1 for step in review.steps if step.done)
    totals = (
        f"  {done} of {len(review.steps)} steps done, {review.messages} chat messages, "
        f"{review.invocations} function invocations, {review.seconds:.0f} s"
    )
    lines += ["", totals]
    return lines


def chat_lines(request: ReceivedRequest) -> list[str]:
    """One message as the receiver got it: where it went, then what the chat client shows.

    >>> request = ReceivedRequest("POST", "/oncall", {}, b'{"text": "hello"}', 200, 0.0)
    >>> print("\\n".join(chat_lines(request)))
             💬 POST /oncall -> 200
             │ [slack]
             │ (notification text) hello
    """
    body = request.json
    shown = format_chat_message(body) if body is not None else request.body.decode("replace")
    heading = f"{' ' * 9}💬 {request.method} {request.path} -> {request.status}"
    return [heading, *(f"{' ' * 9}│ {line}" for line in shown.splitlines())]


def _wrap(text: str, width: int, *, indent: str = "", first: str = "") -> list[str]:
    """Lines of at most `width`, breaking at spaces only (ARNs and digests stay whole)."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _rule(title: str) -> str:
    head = f"━━ {title} "
    return head + "━" * max(3, WIDTH - len(head))


class Timeline:
    """Writes the day to `out` as it happens."""

    def __init__(self, out: TextIO, day: DemoDay) -> None:
        self._out = out
        self._day = day

    def write(self, line: str = "") -> None:
        self._out.write(line + "\n")
        self._out.flush()

    def banner(self, title: str, facts: Sequence[tuple[str, str]]) -> None:
        self.write(title)
        width = max(len(name) for name, _ in facts)
        for name, value in facts:
            self.write(f"  {name:<{width}}  {value}")

    def step(self, clock: str, title: str) -> None:
        self.write()
        self.write(_rule(f"{clock}  {title}"))

    def at(self, moment: dt.datetime | None, text: str) -> None:
        """A line of the step: its local time (blank for what happens outside the day)."""
        stamp = f"{self._day.local(moment):%H:%M}" if moment is not None else ""
        lines = _wrap(text, WIDTH - 9, indent="  ") or [""]
        self.write(f"  {stamp:<5}  {lines[0]}")
        for line in lines[1:]:
            self.write(f"{' ' * 9}{line}")

    def detail(self, text: str) -> None:
        """A detail of the line before, indented under it."""
        for line in _wrap(text, WIDTH - 11, indent="  "):
            self.write(f"{' ' * 11}{line}")

    def chat(self, request: ReceivedRequest) -> None:
        for line in chat_lines(request):
            self.write(line)

    def verdict(self, result: StepResult) -> None:
        line = f"{result.mark} in {result.seconds:.0f} s: {result.summary}"
        for text in _wrap(line, WIDTH, first="  ", indent="    "):
            self.write(text)

    def review(self, review: DayReview) -> None:
        self.write()
        for line in review_lines(review):
            self.write(line)
