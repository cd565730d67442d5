"""The condition language: parsing (to the AST, or an error with its position) and evaluation."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightshift.canary.conditions import (
    AnyOf,
    Condition,
    ConditionError,
    Operand,
    Pattern,
    Placeholder,
    Value,
    evaluate,
    parse_condition,
    parse_duration_ms,
)
from nightshift.canary.verdict import Observation
from nightshift.errors import PolicyError

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RUN = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
DAY_MS = 86_400_000.0

# ------------------------------------------------------------------------------------ parsing

PARSED = [
    ("[STATUS] == 200", Operand(Placeholder.STATUS), "==", Value("200", 200.0)),
    ("[STATUS] < 500", Operand(Placeholder.STATUS), "<", Value("500", 500.0)),
    ("[STATUS]==200", Operand(Placeholder.STATUS), "==", Value("200", 200.0)),
    ("  [STATUS]   !=   404  ", Operand(Placeholder.STATUS), "!=", Value("404", 404.0)),
    ("[RESPONSE_TIME] < 800", Operand(Placeholder.RESPONSE_TIME), "<", Value("800", 800.0)),
    ("[RESPONSE_TIME] <= 2s", Operand(Placeholder.RESPONSE_TIME), "<=", Value("2s", 2000.0)),
    (
        "[CERTIFICATE_EXPIRATION] > 14d",
        Operand(Placeholder.CERTIFICATE_EXPIRATION),
        ">",
        Value("14d", 14 * DAY_MS),
    ),
    (
        "[CERTIFICATE_EXPIRATION] >= 1d12h",
        Operand(Placeholder.CERTIFICATE_EXPIRATION),
        ">=",
        Value("1d12h", 1.5 * DAY_MS),
    ),
    (
        "[BODY].status == healthy",
        Operand(Placeholder.BODY, ("status",)),
        "==",
        Value("healthy"),
    ),
    (
        "[BODY].services.database.latency_ms < 50",
        Operand(Placeholder.BODY, ("services", "database", "latency_ms")),
        "<",
        Value("50", 50.0),
    ),
    (
        "[BODY].items[0].id != 0",
        Operand(Placeholder.BODY, ("items", 0, "id")),
        "!=",
        Value("0", 0.0),
    ),
    ("[BODY][2] == x", Operand(Placeholder.BODY, (2,)), "==", Value("x")),
    ("[BODY] contains healthy", Operand(Placeholder.BODY), "contains", Value("healthy")),
    (
        '[BODY] contains "all good"',
        Operand(Placeholder.BODY),
        "contains",
        Value("all good"),
    ),
    ("[BODY] == pat(*healthy*)", Operand(Placeholder.BODY), "==", Pattern("*healthy*")),
    (
        "[BODY].status == any(healthy, ok)",
        Operand(Placeholder.BODY, ("status",)),
        "==",
        AnyOf((Value("healthy"), Value("ok"))),
    ),
    (
        "[STATUS] == any(200, 204)",
        Operand(Placeholder.STATUS),
        "==",
        AnyOf((Value("200", 200.0), Value("204", 204.0))),
    ),
    (
        "len([BODY].items) > 0",
        Operand(Placeholder.BODY, ("items",), "len"),
        ">",
        Value("0", 0.0),
    ),
    (
        "has([BODY].error) == false",
        Operand(Placeholder.BODY, ("error",), "has"),
        "==",
        Value("false"),
    ),
    ("[CONNECTED] == true", Operand(Placeholder.CONNECTED), "==", Value("true")),
    ("[BODY].version == 1.4.2", Operand(Placeholder.BODY, ("version",)), "==", Value("1.4.2")),
]


@pytest.mark.parametrize(("text", "left", "op", "right"), PARSED, ids=[p[0] for p in PARSED])
def test_valid_condition_parses_to_its_ast(text, left, op, right):
    assert parse_condition(text) == Condition(text.strip(), left, op, right)


INVALID = [
    # (condition, position, words the explanation must contain)
    ("[STATUS] = 200", 9, "expected an operator"),
    ("[STATUS] 200", 9, "expected an operator"),
    ("status == 200", 0, "expected a placeholder"),
    ("[STATUSES] == 200", 0, "unknown placeholder"),
    ("[STATUS == 200", 14, "expected ']'"),
    ("[STATUS] ==", 11, "expected a value"),
    ("[STATUS] == ok", 12, "whole number"),
    ("[STATUS] == 200 && [BODY] == x", 12, "whole number"),
    ("[RESPONSE_TIME] < fast", 18, "milliseconds"),
    ("[CERTIFICATE_EXPIRATION] > 14", 27, "duration such as 14d"),
    ("[CERTIFICATE_EXPIRATION] > 14 days", 27, "duration"),
    ("[CONNECTED] == yes", 15, "true or false"),
    ("[BODY] < 5", 7, "only with ==, != or contains"),
    ("[STATUS] contains 20", 9, "contains works only on [BODY]"),
    ("[BODY].count > many", 15, "needs a number"),
    ("[BODY]. == x", 7, "field name"),
    ("[BODY].items[x] == 1", 12, "array index"),
    ("size([BODY].items) > 0", 0, "unknown function 'size'"),
    ("len([STATUS]) > 0", 4, "takes a [BODY] path"),
    ("len([BODY].items > 0", 17, "expected ')'"),
    ("[BODY].status < any(1, 2)", 14, "works only with == or !="),
    ("[BODY] == pat()", 14, "needs a pattern"),
    ("[BODY].status == any(up, , ok)", 25, "separated by commas"),
    ("[BODY].status == any(up, ok", 27, "expected ')'"),
    ('[BODY].status == "up', 17, "closing the quoted value"),
    ('[BODY].status == "up" trailing', 22, "unexpected text"),
    ("[BODY] == pat(*x*) and more", 19, "unexpected text"),
    ("", 0, "expected a placeholder"),
]


@pytest.mark.parametrize(("text", "position", "explanation"), INVALID, ids=[i[0] for i in INVALID])
def test_unparsable_condition_names_its_position_and_what_was_expected(text, position, explanation):
    with pytest.raises(ConditionError) as caught:
        parse_condition(text, check="api")
    error = caught.value
    assert (error.condition, error.position, error.check) == (text, position, "api")
    assert explanation in error.expected
    assert f"at position {position}" in str(error)
    assert "check 'api'" in str(error)


def test_condition_error_is_a_policy_error_and_can_be_placed_in_the_policy_file():
    with pytest.raises(PolicyError) as caught:
        parse_condition("[STATUS] = 200")
    assert isinstance(caught.value, ConditionError)
    placed = caught.value.located(
        check="api", source="policy/staging.yaml", path="canaries[0].conditions[1]"
    )
    assert str(placed).startswith("policy/staging.yaml: canaries[0].conditions[1]: check 'api':")
    assert placed.position == 9


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("500ms", 500.0),
        ("2s", 2000.0),
        ("30m", 1_800_000.0),
        ("12h", 43_200_000.0),
        ("14d", 14 * DAY_MS),
        ("2w", 14 * DAY_MS),
        ("1h30m", 5_400_000.0),
        ("1.5d", 1.5 * DAY_MS),
        ("14", None),
        ("14 d", None),
        ("d", None),
        ("14y", None),
    ],
)
def test_duration_is_read_in_milliseconds_or_refused(text, millis):
    assert parse_duration_ms(text) == millis


@PROPERTIES
@given(st.text(max_size=60))
def test_any_text_either_parses_or_raises_a_condition_error_inside_the_text(text):
    outcome = _parse_or_error(text)
    if isinstance(outcome, ConditionError):
        assert 0 <= outcome.position <= len(text)
        assert outcome.condition == text
    else:
        assert outcome.text == text.strip()


def _parse_or_error(text: str) -> Condition | ConditionError:
    try:
        return parse_condition(text)
    except ConditionError as error:
        return error


@PROPERTIES
@given(
    path=st.lists(
        st.one_of(
            st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
            st.integers(min_value=0, max_value=99),
        ),
        min_size=1,
        max_size=5,
    ),
    op=st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    number=st.integers(min_value=-(10**6), max_value=10**6),
)
def test_printed_operand_parses_back_to_the_same_condition(path, op, number):
    left = Operand(Placeholder.BODY, tuple(path))
    text = f"{left} {op} {number}"
    assert parse_condition(text) == Condition(text, left, op, Value(str(number), float(number)))


# --------------------------------------------------------------------------------- evaluation


def seen(
    body: bytes = b"",
    *,
    status: int = 200,
    millis: float = 120.0,
    expires_in_days: float | None = None,
    error: str | None = None,
    truncated: bool = False,
) -> Observation:
    if error is not None:
        return Observation(RUN, error=error)
    not_after = None if expires_in_days is None else RUN + dt.timedelta(days=expires_in_days)
    return Observation(
        RUN,
        status=status,
        response_time_ms=millis,
        body=body,
        body_truncated=truncated,
        certificate_not_after=not_after,
    )


ITEMS = b'{"items": [{"id": 7, "tags": ["a", "b"]}], "count": "12", "ok": true, "none": null}'

EVALUATED = [
    # (condition, observation, ok, reason)
    ("[STATUS] == 200", seen(status=200), True, "[STATUS] == 200: got 200"),
    ("[STATUS] == 200", seen(status=500), False, "[STATUS] == 200: got 500"),
    ("[STATUS] < 500", seen(status=503), False, "[STATUS] < 500: got 503"),
    ("[STATUS] == any(200, 204)", seen(status=204), True, "[STATUS] == any(200, 204): got 204"),
    ("[STATUS] == pat(2*)", seen(status=201), True, "[STATUS] == pat(2*): got 201"),
    ("[STATUS] != pat(5*)", seen(status=502), False, "[STATUS] != pat(5*): got 502"),
    ("[RESPONSE_TIME] < 800", seen(millis=950.4), False, "[RESPONSE_TIME] < 800: got 950 ms"),
    ("[RESPONSE_TIME] < 1s", seen(millis=950.4), True, "[RESPONSE_TIME] < 1s: got 950 ms"),
    (
        "[CERTIFICATE_EXPIRATION] > 14d",
        seen(expires_in_days=9.94),
        False,
        "[CERTIFICATE_EXPIRATION] > 14d: got 9.9d",
    ),
    (
        "[CERTIFICATE_EXPIRATION] > 14d",
        seen(expires_in_days=90),
        True,
        "[CERTIFICATE_EXPIRATION] > 14d: got 90.0d",
    ),
    (
        "[CERTIFICATE_EXPIRATION] > 14d",
        seen(),
        False,
        "[CERTIFICATE_EXPIRATION] > 14d: got no certificate (not HTTPS)",
    ),
    ("[CONNECTED] == true", seen(), True, "[CONNECTED] == true: got true"),
    (
        "[CONNECTED] == true",
        seen(error="connection refused"),
        False,
        "[CONNECTED] == true: got false (connection refused)",
    ),
    (
        "[STATUS] == 200",
        seen(error="timed out after 2000 ms"),
        False,
        "[STATUS] == 200: got no response (timed out after 2000 ms)",
    ),
    (
        "[BODY] contains healthy",
        seen(b"all healthy"),
        True,
        "[BODY] contains healthy: got all healthy",
    ),
    (
        "[BODY] == pat(*healthy*)",
        seen(b"all healthy"),
        True,
        "[BODY] == pat(*healthy*): got all healthy",
    ),
    (
        "[BODY] == pat(healthy*)",
        seen(b"all healthy"),
        False,
        "[BODY] == pat(healthy*): got all healthy",
    ),
    ("[BODY] == OK", seen(b"OK"), True, "[BODY] == OK: got OK"),
    ("len([BODY]) > 0", seen(b""), False, "len([BODY]) > 0: got 0"),
    ("[BODY].items[0].id == 7", seen(ITEMS), True, "[BODY].items[0].id == 7: got 7"),
    ("[BODY].items[0].id > 9", seen(ITEMS), False, "[BODY].items[0].id > 9: got 7"),
    ("[BODY].count >= 12", seen(ITEMS), True, "[BODY].count >= 12: got 12"),
    ("[BODY].ok == true", seen(ITEMS), True, "[BODY].ok == true: got true"),
    ("[BODY].none == null", seen(ITEMS), True, "[BODY].none == null: got null"),
    (
        "[BODY].items[0].tags contains b",
        seen(ITEMS),
        True,
        '[BODY].items[0].tags contains b: got ["a","b"]',
    ),
    (
        "[BODY].items[0].tags contains c",
        seen(ITEMS),
        False,
        '[BODY].items[0].tags contains c: got ["a","b"]',
    ),
    ("len([BODY].items) > 0", seen(ITEMS), True, "len([BODY].items) > 0: got 1"),
    ("len([BODY].items[0].tags) == 2", seen(ITEMS), True, "len([BODY].items[0].tags) == 2: got 2"),
    (
        "len([BODY].ok) == 1",
        seen(ITEMS),
        False,
        "len([BODY].ok) == 1: got true (has no length)",
    ),
    ("has([BODY].error) == false", seen(ITEMS), True, "has([BODY].error) == false: got false"),
    ("has([BODY].items) == true", seen(ITEMS), True, "has([BODY].items) == true: got true"),
    (
        "[BODY].items[3].id == 7",
        seen(ITEMS),
        False,
        "[BODY].items[3].id == 7: got nothing (no [BODY].items[3].id)",
    ),
    (
        "[BODY].status == healthy",
        seen(b"<html>502 Bad Gateway</html>", status=502),
        False,
        "[BODY].status == healthy: got a body that is not JSON",
    ),
    (
        "[BODY].status == healthy",
        seen(b'{"status": "healthy"', truncated=True),
        False,
        "[BODY].status == healthy: got a body that is not JSON",
    ),
]


@pytest.mark.parametrize(
    ("text", "observation", "ok", "reason"), EVALUATED, ids=[f"{e[0]} ({e[3]})" for e in EVALUATED]
)
def test_condition_is_evaluated_with_the_observed_value_in_its_reason(
    text, observation, ok, reason
):
    result = evaluate(parse_condition(text), observation)
    assert (result.ok, result.reason) == (ok, reason)
    assert result.condition == text


HEALTH = [
    ("[BODY].status == healthy", True, False, "got degraded"),
    ("[BODY].status == any(healthy, ok)", True, False, "got degraded"),
    ("[BODY].services.database.status == up", True, False, "got down"),
    ("[BODY].services.database.latency_ms < 50", True, False, "got 5012"),
    ("[BODY].services.redis.status == up", True, True, "got up"),
    ("[BODY].services.database.connection_pool.max == 20", True, False, "got nothing"),
    ("[BODY] contains degraded", False, True, "degraded"),
    ("len([BODY].services) == 3", True, True, "got 3"),
]


@pytest.mark.parametrize(("text", "on_healthy", "on_degraded", "degraded_reason"), HEALTH)
def test_health_body_conditions_pass_on_healthy_and_name_the_fault_on_degraded(
    text, on_healthy, on_degraded, degraded_reason, healthy_body, degraded_body
):
    condition = parse_condition(text)
    assert evaluate(condition, seen(healthy_body)).ok is on_healthy
    degraded = evaluate(condition, seen(degraded_body, status=503))
    assert degraded.ok is on_degraded
    assert degraded.reason.startswith(f"{text}: ")
    assert degraded_reason in degraded.reason


def test_reason_shows_a_long_body_shortened_on_one_line():
    body = b"line one\n" + b"x" * 500
    result = evaluate(parse_condition("[BODY] contains healthy"), seen(body))
    assert not result.ok
    assert result.observed is not None
    assert result.observed.startswith("line one xxx")
    assert len(result.observed) == 80
    assert result.observed.endswith("…")


def test_unreachable_endpoint_has_no_observed_value():
    result = evaluate(parse_condition("[STATUS] == 200"), seen(error="connection refused"))
    assert result.observed is None
    assert not result.ok


def test_absurdly_nested_body_is_not_json_rather_than_a_crash():
    result = evaluate(parse_condition("[BODY].status == up"), seen(b"[" * 200_000))
    assert result.reason == "[BODY].status == up: got a body that is not JSON"
