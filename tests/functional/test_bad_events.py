"""Every handler answers bad input with a clear NightshiftError, never a crash of another kind.

Each handler runs in-process under moto (as the other functional tests run it) and is fed
EXAMPLES events mutated from its own `events/<function>/*.json`: values of the wrong type, keys
removed, lists where strings are, non-object events, huge strings, times in year 9999 or year 1.
Hypothesis is derandomized, so every run feeds the same events. The notifier must raise nothing
at all for an SQS batch: a bad record becomes a raw fallback message or a batch item failure,
and no record is acknowledged without a delivery (or a logged suppression).

Counted before the fix, of 500 events each: scheduler 227, pruner 230, redeploy 62 exceptions
that were not NightshiftErrors (AttributeError on a non-object event, TypeError on a list
detail-type, OverflowError saving a time in year 9999, an idempotency record over DynamoDB's
item size limit from a 400 KB field). After: 0 for every handler (docs/decisions.md).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from localcloud.receiver import WebhookReceiver
from nightshift.errors import NightshiftError
from nightshift.notify.events import check_sqs_batch
from tests.conftest import FakeLambdaContext, event_names, load_event, load_handler
from tests.support.health_server import HealthServer
from tests.support.nightshift import create_ops_topic, create_state_table, function_environment

# An event refused at the edge publishes no metric; Powertools warns about that every time.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
EXAMPLES = 500
REGION = "eu-central-1"
TABLE = "nightshift-state"
TOPIC = "nightshift-ops-staging"
LOCKS = "before-call.ec2.DescribeLockedSnapshots"
HUGE = "x" * 400_000  # one field the size of DynamoDB's whole item limit
ODD_TIMES = (
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "2026-11-20T18:00:00",
    "2026-13-45T99:00:00Z",
    "yesterday",
)
POLICIES = {
    "scheduler": """
version: 1
schedules:
  office-hours:
    timezone: Europe/Berlin
    periods: [{days: mon-fri, start: "07:30", stop: "19:00"}]
""",
    "pruner": """
version: 1
retention:
  - name: staging
    resources: [rds-snapshot, aurora-snapshot, ebs-snapshot]
    match: {tags: {Environment: staging}}
    keep: {last: 2, daily: 3}
""",
    "redeploy": """
version: 1
redeploy:
  follow: {main: "main-*", release: "v*"}
""",
    "notifier": """
version: 1
notify:
  destinations:
    oncall: {type: slack, secret: nightshift/slack-oncall}
  routes:
    - {to: [oncall]}
""",
}

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.just(HUGE),
    st.sampled_from(ODD_TIMES),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value, the value itself first."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def mutated(draw: st.DrawFn, event: Any) -> Any:
    """`event` with one change at a random place: another value, the value in a list, or the
    key gone."""
    places = list(paths(event))
    place = draw(st.sampled_from(places))
    kind = draw(st.sampled_from(("replace", "replace", "wrap", "delete")))
    if not place:
        return [event] if kind == "wrap" else draw(odd_values)
    *parents, last = place
    container = event
    for step in parents:
        container = container[step]
    if kind == "delete" and isinstance(container, dict):
        del container[last]
    elif kind == "wrap":
        container[last] = [container[last]]
    else:
        container[last] = draw(odd_values)
    return event


@st.composite
def bad_events(draw: st.DrawFn, function: str) -> Any:
    """A fixture of `function` with one to three mutations; the notifier's SNS envelope and
    message inside a record's body are mutated as well as the SQS record around them."""
    name = draw(st.sampled_from(event_names(function)))
    event: Any = copy.deepcopy(load_event(function, name))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if function == "notifier" and isinstance(event, dict) and draw(st.booleans()):
            records = event.get("Records")
            if isinstance(records, list) and records and isinstance(records[0], dict):
                body = records[0].get("body")
                try:
                    envelope = json.loads(body) if isinstance(body, str) else None
                except ValueError:
                    envelope = None
                if envelope is not None:
                    records[0]["body"] = json.dumps(mutated(draw, envelope))
                    continue
        event = mutated(draw, event)
    return event


def described(crashes: Counter[str]) -> str:
    """How many events crashed, and with what (the commonest first)."""
    lines = [f"{count} x {what}" for what, count in crashes.most_common(8)]
    return f"{crashes.total()} of {EXAMPLES} events crashed:\n" + "\n".join(lines)


def feed(
    function: str,
    handler: ModuleType,
    accept: Callable[[Any, Any], str | None] | None = None,
    must_answer: Callable[[Any], bool] = lambda _: False,
) -> Counter[str]:
    """Run EXAMPLES mutated events through `handler`; the exceptions that were not
    NightshiftErrors, by type (any exception, for an event `must_answer` says needs an answer).
    `accept` says what is wrong with a result, if anything; that counts as a crash too."""
    crashes: Counter[str] = Counter()
    fed = [0]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(bad_events(function))
    def run(event: Any) -> None:
        fed[0] += 1
        answer = must_answer(event)
        try:
            result = handler.lambda_handler(event, FakeLambdaContext())
        except NightshiftError as exc:
            if answer:
                crashes[f"{type(exc).__name__} for an SQS batch: {str(exc)[:80]}"] += 1
            return
        except Exception as exc:
            crashes[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            return
        problem = None if accept is None else accept(event, result)
        if problem is not None:
            crashes[f"bad answer: {problem}"] += 1

    run()
    assert fed[0] >= EXAMPLES, f"only {fed[0]} events were fed"
    return crashes


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., ModuleType]:
    """Start moto with Nightshift's table and topic; `cloud(function)` loads that handler with
    the environment template.yaml gives it."""

    def start(function: str, **extra: str) -> ModuleType:
        policy = tmp_path / "nightshift.yaml"
        policy.write_text(POLICIES.get(function, "version: 1\n"), encoding="utf-8")
        function_environment(
            monkeypatch,
            service=function,
            policy_file=policy,
            table=TABLE,
            topic_arn=f"arn:aws:sns:{REGION}:123456789012:{TOPIC}",
            region=REGION,
            extra=extra,
        )
        create_state_table(boto3.client("dynamodb"), TABLE)
        create_ops_topic(boto3.client("sns"), boto3.client("sqs"), TOPIC)
        if function == "pruner":
            # moto does not implement DescribeLockedSnapshots: answer it as AWS would (no locks).
            boto3.DEFAULT_SESSION.events.register(LOCKS, no_locked_snapshots)
        return load_handler(function)

    with mock_aws():
        yield start
    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION.events.unregister(LOCKS, no_locked_snapshots)


def no_locked_snapshots(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://ec2.test", 200, {}, None), {"Snapshots": []}


def is_sqs_batch(event: Any) -> bool:
    try:
        check_sqs_batch(event)
    except NightshiftError:
        return False
    return True


@pytest.mark.parametrize("function", ["scheduler", "pruner", "redeploy"])
def test_bad_events_are_answered_with_nightshift_errors_only(
    cloud: Callable[..., ModuleType], function: str
) -> None:
    handler = cloud(function, NIGHTSHIFT_PRUNER_DRY_RUN="false", MOTO_EC2_LOAD_DEFAULT_AMIS="false")

    crashes = feed(function, handler)

    assert crashes.total() == 0, described(crashes)


def test_bad_canary_events_are_answered_with_nightshift_errors_only(
    cloud: Callable[..., ModuleType], tmp_path: Path, health_server: HealthServer
) -> None:
    handler = cloud("canary")
    (tmp_path / "nightshift.yaml").write_text(
        "version: 1\ncanaries:\n"
        f"  - {{name: api, url: '{health_server.url()}', conditions: ['[STATUS] == 200']}}\n",
        encoding="utf-8",
    )

    crashes = feed("canary", handler)

    assert crashes.total() == 0, described(crashes)


def test_bad_notifier_records_become_raw_fallbacks_or_batch_item_failures(
    cloud: Callable[..., ModuleType], caplog: pytest.LogCaptureFixture
) -> None:
    with WebhookReceiver() as receiver:
        handler = cloud("notifier")
        boto3.client("secretsmanager").create_secret(
            Name="nightshift/slack-oncall", SecretString=receiver.url_for("oncall")
        )
        parameters.clear_caches()
        seen = {"requests": 0, "logs": 0}

        def accept(event: Any, result: Any) -> str | None:
            """A batch response naming only records of this batch, and no record acknowledged
            without a delivery (or a logged suppression); then the state is forgotten, so the
            next event is judged on its own."""
            ids = [record["messageId"] for record in event["Records"]]
            failed = [failure["itemIdentifier"] for failure in result["batchItemFailures"]]
            delivered = len(receiver.requests) - seen["requests"]
            suppressed = sum(
                record.getMessage() == "message suppressed"
                for record in caplog.records[seen["logs"] :]
            )
            seen.update(requests=len(receiver.requests), logs=len(caplog.records))
            forget_notifier_state()
            if any(identifier not in ids for identifier in failed):
                return "batchItemFailures names an itemIdentifier that is no messageId"
            if len(ids) - len(failed) > delivered + suppressed:
                return "a record was acknowledged without a delivery"
            return None

        crashes = feed("notifier", handler, accept, must_answer=is_sqs_batch)
    parameters.clear_caches()

    assert crashes.total() == 0, described(crashes)


def forget_notifier_state() -> None:
    """Empty the state table: the delivery ledger and alarm memory of earlier examples."""
    dynamodb = boto3.client("dynamodb")
    for item in dynamodb.scan(TableName=TABLE, ProjectionExpression="pk, sk")["Items"]:
        dynamodb.delete_item(TableName=TABLE, Key=item)
