"""The canary's condition language: text -> AST (frozen dataclasses) -> evaluation with a reason.

A gatus-like subset, documented in docs/canary.md:

    [STATUS] == 200                          [STATUS] == any(200, 204)
    [RESPONSE_TIME] < 800                    [RESPONSE_TIME] < 2s
    [BODY].status == healthy                 [BODY].status == any(healthy, ok)
    [BODY].services.database.latency_ms < 50 [BODY].items[0].id != 0
    [BODY] contains healthy                  [BODY] == pat(*"status":"healthy"*)
    len([BODY].items) > 0                    has([BODY].error) == false
    [CERTIFICATE_EXPIRATION] > 14d           [CONNECTED] == true

Parsing is strict (a mistake names the character position); evaluation never raises: it returns
a ConditionResult whose reason reads "[BODY].services.database.status == up: got down".
This module is pure: what a probe saw comes in as an `Observation`-like object.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from nightshift.errors import PolicyError

# ----------------------------------------------------------------------------------- errors


class ConditionError(PolicyError):
    """A condition that cannot be parsed: names the check, the text and the character position.

    It is a PolicyError, so a handler reports it like any other policy mistake.
    `position` is the 0-based offset into `condition` where parsing stopped.
    """

    def __init__(
        self,
        condition: str,
        position: int,
        expected: str,
        *,
        check: str | None = None,
        source: str = "<policy>",
        path: str = "canaries",
    ) -> None:
        self.condition = condition
        self.position = position
        self.expected = expected
        self.check = check
        who = f"check {check!r}: " if check else ""
        rest = condition[position:]
        at = f"at position {position} ({rest!r})" if rest else f"at position {position} (end)"
        super().__init__(source, path, f"{who}cannot parse {condition!r} {at}: {expected}")

    def located(self, *, check: str, source: str, path: str) -> ConditionError:
        """The same error, placed in a policy file (which check, which field)."""
        return ConditionError(
            self.condition, self.position, self.expected, check=check, source=source, path=path
        )


# -------------------------------------------------------------------------------------- AST


class Placeholder(StrEnum):
    """What a condition can look at."""

    STATUS = "STATUS"
    RESPONSE_TIME = "RESPONSE_TIME"
    BODY = "BODY"
    CERTIFICATE_EXPIRATION = "CERTIFICATE_EXPIRATION"
    CONNECTED = "CONNECTED"


class Kind(StrEnum):
    """How the value on the left is typed, which decides how the right side is read."""

    INTEGER = "integer"  # [STATUS], len(...)
    MILLISECONDS = "milliseconds"  # [RESPONSE_TIME]: 800 or 2s
    DURATION = "duration"  # [CERTIFICATE_EXPIRATION]: needs a unit (14d, 48h)
    BOOLEAN = "boolean"  # [CONNECTED], has(...)
    TEXT = "text"  # [BODY]: the whole body
    JSON = "json"  # [BODY].path: any JSON value


PathSegment = str | int


@dataclass(frozen=True)
class Operand:
    """The left side: a placeholder, an optional JSON path, an optional function around it."""

    placeholder: Placeholder
    path: tuple[PathSegment, ...] = ()
    function: str | None = None  # "len" or "has"

    @property
    def kind(self) -> Kind:
        if self.function is not None:
            return LEFT_FUNCTIONS[self.function]
        if self.placeholder is Placeholder.BODY:
            return Kind.JSON if self.path else Kind.TEXT
        return PLACEHOLDER_KINDS[self.placeholder]

    def __str__(self) -> str:
        text = f"[{self.placeholder.value}]" + "".join(
            f"[{segment}]" if isinstance(segment, int) else f".{segment}" for segment in self.path
        )
        return f"{self.function}({text})" if self.function else text


@dataclass(frozen=True)
class Value:
    """A literal on the right. `number` is set when it reads as a number (durations in ms)."""

    text: str
    number: float | None = None


@dataclass(frozen=True)
class Pattern:
    """`pat(...)`: a glob where `*` matches any run of characters (case-sensitive)."""

    glob: str

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(".*".join(re.escape(part) for part in self.glob.split("*")), re.DOTALL)


@dataclass(frozen=True)
class AnyOf:
    """`any(a, b, c)`: equal to one of the values."""

    values: tuple[Value, ...]


Expected = Value | Pattern | AnyOf


@dataclass(frozen=True)
class Condition:
    """One parsed condition; `text` is what the policy said, kept for reasons and reports."""

    text: str
    left: Operand
    operator: str
    right: Expected

    @property
    def concerns_certificate(self) -> bool:
        """True for [CERTIFICATE_EXPIRATION] conditions: a warning, not downtime."""
        return self.left.placeholder is Placeholder.CERTIFICATE_EXPIRATION


@dataclass(frozen=True)
class ConditionResult:
    """How one condition fared against one observation."""

    condition: str
    ok: bool
    observed: str | None
    reason: str


# ------------------------------------------------------------------------------------ tables

PLACEHOLDER_KINDS: Mapping[Placeholder, Kind] = {
    Placeholder.STATUS: Kind.INTEGER,
    Placeholder.RESPONSE_TIME: Kind.MILLISECONDS,
    Placeholder.BODY: Kind.TEXT,
    Placeholder.CERTIFICATE_EXPIRATION: Kind.DURATION,
    Placeholder.CONNECTED: Kind.BOOLEAN,
}

LEFT_FUNCTIONS: Mapping[str, Kind] = {"len": Kind.INTEGER, "has": Kind.BOOLEAN}

ORDERING: Mapping[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
EQUALITY: Mapping[str, bool] = {"==": True, "!=": False}  # operator -> "should match"
# Longest symbol first, so "<=" is not read as "<" followed by "=".
OPERATORS: tuple[str, ...] = ("==", "!=", "<=", ">=", "<", ">", "contains")

MS_PER_UNIT: Mapping[str, float] = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(r"-?\d+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"\[\s*(\d+)\s*\]")
_KEY = re.compile(r"[A-Za-z0-9_$@-][A-Za-z0-9_$@:-]*")
_EXPECTED_LEFT = (
    "a placeholder ([STATUS], [RESPONSE_TIME], [BODY], [CERTIFICATE_EXPIRATION], [CONNECTED])"
    " or a function (len, has)"
)


def parse_duration_ms(text: str) -> float | None:
    """Milliseconds in a duration such as 14d, 12h, 1h30m, 500ms; None if it is not one.

    >>> parse_duration_ms("1h30m")
    5400000.0
    """
    if not _DURATION.fullmatch(text):
        return None
    return float(sum(float(n) * MS_PER_UNIT[unit] for n, unit in _DURATION_PART.findall(text)))


# ------------------------------------------------------------------------------------ parser


def parse_condition(text: str, *, check: str | None = None) -> Condition:
    """Parse one condition, or raise ConditionError naming the position of the mistake.

    >>> parse_condition("[BODY].services.database.status == up").left.path
    ('services', 'database', 'status')
    """
    return _Parser(text, check).condition()


class _Parser:
    def __init__(self, text: str, check: str | None) -> None:
        self.text = text
        self.check = check
        self.pos = 0

    def fail(self, expected: str, position: int | None = None) -> ConditionError:
        where = self.pos if position is None else position
        return ConditionError(self.text, where, expected, check=self.check)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def condition(self) -> Condition:
        self.skip_spaces()
        left = self.operand()
        self.skip_spaces()
        op_position = self.pos
        op = self.operator()
        self.skip_spaces()
        right = self.expected(left, op, op_position)
        return Condition(text=self.text.strip(), left=left, operator=op, right=right)

    # left side ------------------------------------------------------------------------------

    def operand(self) -> Operand:
        name = _NAME.match(self.text, self.pos)
        if name and self.text.startswith("(", name.end()):
            function = name.group()
            if function not in LEFT_FUNCTIONS:
                raise self.fail(
                    f"unknown function {function!r}; valid here: {', '.join(LEFT_FUNCTIONS)}"
                )
            self.pos = name.end() + 1
            self.skip_spaces()
            inner = self.placeholder()
            if inner.placeholder is not Placeholder.BODY:
                raise self.fail(f"{function}() takes a [BODY] path", name.end() + 1)
            self.skip_spaces()
            self.expect(")")
            return Operand(inner.placeholder, inner.path, function)
        if self.text.startswith("[", self.pos):
            return self.placeholder()
        raise self.fail(f"expected {_EXPECTED_LEFT}")

    def placeholder(self) -> Operand:
        start = self.pos
        if not self.text.startswith("[", self.pos):
            raise self.fail("expected a placeholder such as [BODY]")
        end = self.text.find("]", start)
        if end < 0:
            raise self.fail("expected ']' closing the placeholder", len(self.text))
        name = self.text[start + 1 : end].strip().upper()
        if name not in Placeholder.__members__:
            valid = ", ".join(f"[{p.value}]" for p in Placeholder)
            raise self.fail(f"unknown placeholder; valid: {valid}", start)
        self.pos = end + 1
        placeholder = Placeholder[name]
        path = self.json_path() if placeholder is Placeholder.BODY else ()
        return Operand(placeholder, path)

    def json_path(self) -> tuple[PathSegment, ...]:
        segments: list[PathSegment] = []
        while self.pos < len(self.text):
            if self.text[self.pos] == ".":
                key = _KEY.match(self.text, self.pos + 1)
                if not key:
                    raise self.fail("expected a field name after '.'", self.pos + 1)
                segments.append(key.group())
                self.pos = key.end()
            elif self.text[self.pos] == "[":
                index = _INDEX.match(self.text, self.pos)
                if not index:
                    raise self.fail("expected an array index such as [0]")
                segments.append(int(index.group(1)))
                self.pos = index.end()
            else:
                break
        return tuple(segments)

    def expect(self, symbol: str) -> None:
        if not self.text.startswith(symbol, self.pos):
            raise self.fail(f"expected {symbol!r}")
        self.pos += len(symbol)

    # operator -------------------------------------------------------------------------------

    def operator(self) -> str:
        for symbol in OPERATORS:
            if not self.text.startswith(symbol, self.pos):
                continue
            after = self.pos + len(symbol)
            if symbol.isalpha() and (after >= len(self.text) or not self.text[after].isspace()):
                continue  # "containsx" is not the operator
            self.pos = after
            return symbol
        raise self.fail(f"expected an operator ({', '.join(OPERATORS)})")

    # right side -----------------------------------------------------------------------------

    def expected(self, left: Operand, op: str, op_position: int) -> Expected:
        start = self.pos
        if start >= len(self.text):
            raise self.fail("expected a value after the operator")
        call = _NAME.match(self.text, start)
        if call and call.group() in {"pat", "any"} and self.text.startswith("(", call.end()):
            if op not in EQUALITY:
                raise self.fail(f"{call.group()}() works only with == or !=", op_position)
            close = self.text.rfind(")")
            if close < call.end():
                raise self.fail("expected ')' closing the function", len(self.text))
            self.ensure_nothing_after(close + 1)
            inner_start = call.end() + 1
            inner = self.text[inner_start:close]
            if call.group() == "pat":
                if not inner:
                    raise self.fail("pat() needs a pattern such as *healthy*", inner_start)
                return Pattern(inner)
            return AnyOf(self.any_values(left, inner, inner_start))
        if op in ORDERING and left.kind in {Kind.TEXT, Kind.BOOLEAN}:
            raise self.fail(f"{left} can be compared only with ==, != or contains", op_position)
        if op == "contains" and left.kind not in {Kind.TEXT, Kind.JSON}:
            raise self.fail("contains works only on [BODY] and [BODY] paths", op_position)
        raw, raw_start = self.literal_text(start)
        value = self.typed(left, raw, raw_start)
        if op in ORDERING and value.number is None:
            raise self.fail(f"{op} needs a number", raw_start)
        return value

    def any_values(self, left: Operand, inner: str, offset: int) -> tuple[Value, ...]:
        values: list[Value] = []
        cursor = 0
        for part in inner.split(","):
            stripped = part.strip()
            at = offset + cursor + (len(part) - len(part.lstrip()))
            if not stripped:
                raise self.fail("any() needs values separated by commas", at)
            values.append(self.typed(left, _unquote(stripped), at))
            cursor += len(part) + 1
        return tuple(values)

    def literal_text(self, start: int) -> tuple[str, int]:
        if self.text.startswith('"', start):
            end = start + 1
            chars: list[str] = []
            while end < len(self.text) and self.text[end] != '"':
                if self.text[end] == "\\" and end + 1 < len(self.text):
                    end += 1
                chars.append(self.text[end])
                end += 1
            if end >= len(self.text):
                raise self.fail("expected '\"' closing the quoted value", start)
            self.ensure_nothing_after(end + 1)
            return "".join(chars), start
        self.pos = len(self.text)
        return self.text[start:].strip(), start

    def ensure_nothing_after(self, position: int) -> None:
        rest = self.text[position:]
        if rest.strip():
            raise self.fail(
                "unexpected text after the value", position + len(rest) - len(rest.lstrip())
            )
        self.pos = len(self.text)

    def typed(self, left: Operand, raw: str, at: int) -> Value:
        """Read a literal as the left side's kind: a status code, a duration, true/false..."""
        match left.kind:
            case Kind.INTEGER:
                if not _INTEGER.fullmatch(raw):
                    raise self.fail(f"{left} is compared with a whole number such as 200", at)
                return Value(raw, float(raw))
            case Kind.MILLISECONDS:
                millis = float(raw) if _NUMBER.fullmatch(raw) else parse_duration_ms(raw)
                if millis is None:
                    raise self.fail(f"{left} is compared with milliseconds (800) or 2s", at)
                return Value(raw, millis)
            case Kind.DURATION:
                millis = parse_duration_ms(raw)
                if millis is None:
                    raise self.fail(f"{left} is compared with a duration such as 14d or 48h", at)
                return Value(raw, millis)
            case Kind.BOOLEAN:
                if raw.lower() not in {"true", "false"}:
                    raise self.fail(f"{left} is compared with true or false", at)
                return Value(raw.lower())
            case _:
                return Value(raw, float(raw) if _NUMBER.fullmatch(raw) else None)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


# -------------------------------------------------------------------------------- evaluation


class ProbeFacts(Protocol):
    """What a condition can read from one probe (canary.verdict.Observation implements it)."""

    @property
    def error(self) -> str | None: ...
    @property
    def status(self) -> int | None: ...
    @property
    def response_time_ms(self) -> float | None: ...
    @property
    def body_text(self) -> str: ...
    @property
    def body_json(self) -> Any: ...  # NOT_JSON when the body does not parse
    @property
    def certificate_expires_in_ms(self) -> float | None: ...


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()
_MISSING: Any = object()
_SHOWN_CHARS = 80


class _Seen:
    """The left side's value as observed: its text (compared and shown) and number, if any.

    A plain class, not a data class: it lives inside one evaluation and is never compared or
    shown, and a data class would be built at every cold start (tests/unit/test_cold_start.py).
    """

    __slots__ = ("absent", "number", "shown", "text", "value")

    def __init__(
        self,
        text: str,
        number: float | None = None,
        shown: str | None = None,  # how the reason shows it, when not `text`
        value: Any = None,
        absent: str | None = None,  # why there is no value at all
    ) -> None:
        self.text = text
        self.number = number
        self.shown = shown
        self.value = value
        self.absent = absent

    @property
    def display(self) -> str:
        return self.absent or self.shown or _shorten(self.text)


def evaluate(condition: Condition, facts: ProbeFacts) -> ConditionResult:
    """Evaluate a condition against what a probe saw. Never raises.

    >>> from nightshift.canary.verdict import Observation
    >>> import datetime as dt
    >>> seen = Observation(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), status=500)
    >>> evaluate(parse_condition("[STATUS] == 200"), seen).reason
    '[STATUS] == 200: got 500'
    """
    seen = _observe(condition.left, facts)
    ok = False if seen.absent else _compare(condition, seen)
    observed = None if seen.absent else seen.display
    return ConditionResult(
        condition=condition.text,
        ok=ok,
        observed=observed,
        reason=f"{condition.text}: got {seen.display}",
    )


def _observe(left: Operand, facts: ProbeFacts) -> _Seen:
    if left.placeholder is Placeholder.CONNECTED:
        connected = facts.error is None
        return _Seen(
            "true" if connected else "false", shown=None if connected else f"false ({facts.error})"
        )
    if facts.error is not None:
        return _Seen("", absent=f"no response ({facts.error})")
    match left.placeholder:
        case Placeholder.STATUS:
            return _Seen(str(facts.status), float(facts.status or 0))
        case Placeholder.RESPONSE_TIME:
            millis = facts.response_time_ms or 0.0
            return _Seen(f"{millis:.0f}", millis, shown=f"{millis:.0f} ms")
        case Placeholder.CERTIFICATE_EXPIRATION:
            remaining = facts.certificate_expires_in_ms
            if remaining is None:
                return _Seen("", absent="no certificate (not HTTPS)")
            days = remaining / MS_PER_UNIT["d"]
            return _Seen(f"{days:.1f}d", remaining)
        case _:
            return _observe_body(left, facts)


def _observe_body(left: Operand, facts: ProbeFacts) -> _Seen:
    if not left.path:
        text = facts.body_text
        match left.function:
            case "len":
                return _Seen(str(len(text)), float(len(text)))
            case "has":
                return _Seen("true" if text else "false")
            case _:
                return _Seen(text)
    document = facts.body_json
    if document is NOT_JSON:
        if left.function == "has":
            return _Seen("false")
        return _Seen("", absent="a body that is not JSON")
    value = _walk(document, left.path)
    if left.function == "has":
        return _Seen("false" if value is _MISSING else "true")
    if value is _MISSING:
        return _Seen("", absent=f"nothing (no {Operand(left.placeholder, left.path)})")
    if left.function == "len":
        if not isinstance(value, str | list | dict):
            return _Seen("", absent=f"{_json_text(value)} (has no length)")
        return _Seen(str(len(value)), float(len(value)))
    text = _json_text(value)
    return _Seen(text, _json_number(value), value=value)


def _walk(document: Any, path: tuple[PathSegment, ...]) -> Any:
    node = document
    for segment in path:
        found = (isinstance(segment, int) and isinstance(node, list) and segment < len(node)) or (
            isinstance(segment, str) and isinstance(node, dict) and segment in node
        )
        if not found:
            return _MISSING
        node = node[segment]
    return node


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _json_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _compare(condition: Condition, seen: _Seen) -> bool:
    op = condition.operator
    match condition.right:
        case Pattern() as pattern:
            return (pattern.regex.fullmatch(seen.text) is not None) is EQUALITY[op]
        case AnyOf(values):
            return any(_equal(seen, value) for value in values) is EQUALITY[op]
        case Value() as value if op == "contains":
            return _contains(seen, value.text)
        case Value(number=float() as limit) if op in ORDERING:
            return seen.number is not None and ORDERING[op](seen.number, limit)
        case Value() as value:
            return _equal(seen, value) is EQUALITY[op]


def _equal(seen: _Seen, value: Value) -> bool:
    if seen.number is not None and value.number is not None:
        return seen.number == value.number
    return seen.text == value.text


def _contains(seen: _Seen, needle: str) -> bool:
    if isinstance(seen.value, list):
        return any(_json_text(item) == needle for item in seen.value)
    return needle in seen.text


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    if not flat:
        return "''" if not text else repr(text[:_SHOWN_CHARS])
    return flat if len(flat) <= _SHOWN_CHARS else flat[: _SHOWN_CHARS - 1] + "…"
