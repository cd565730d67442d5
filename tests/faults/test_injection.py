"""The injector does what docs/reliability.md says: faults from `before-call` reach the caller
past botocore's retries, a transient failure on one attempt is absorbed by them, a timeout
strikes after the call took effect, and a crash escapes `except Exception`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from tests.faults.harness import faulty_cloud
from tests.support.faults import FaultInjector, FaultKind, ProcessCrash
from tests.support.nightshift import fake_credentials

RETRYING = Config(retries={"mode": "standard", "total_max_attempts": 5})


@pytest.fixture
def injector(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultInjector]:
    fake_credentials(monkeypatch)
    made = FaultInjector()
    with faulty_cloud(made):
        yield made


def dynamodb() -> Any:
    return boto3.client("dynamodb", config=RETRYING)


def test_throttle_from_before_call_reaches_the_caller_after_a_single_attempt(
    injector: FaultInjector,
) -> None:
    client = dynamodb()
    injector.arm({0: FaultKind.THROTTLE})

    with pytest.raises(ClientError) as raised:
        client.list_tables()

    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert [call.name for call in injector.calls] == ["dynamodb.ListTables"]


def test_transient_failure_of_one_attempt_is_absorbed_by_botocore_retries(
    injector: FaultInjector,
) -> None:
    client = dynamodb()
    attempts: list[int] = []

    def first_attempt_times_out(**_: Any) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectTimeoutError(endpoint_url="https://dynamodb.invalid")

    client.meta.events.register_first("before-send.dynamodb.ListTables", first_attempt_times_out)
    injector.arm()

    assert client.list_tables()["TableNames"] == []
    assert len(attempts) == 2
    assert injector.injected == []


def test_timeout_strikes_after_the_call_took_effect(injector: FaultInjector) -> None:
    client = dynamodb()
    injector.arm({0: FaultKind.TIMEOUT})

    with pytest.raises(ReadTimeoutError):
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
    injector.disarm()

    assert client.list_tables()["TableNames"] == ["t"]


def test_crash_escapes_except_exception(injector: FaultInjector) -> None:
    client = dynamodb()
    injector.arm({0: FaultKind.CRASH_BEFORE})

    def careful() -> str:
        try:
            client.list_tables()
        except Exception:  # what a handler that swallows everything would do
            return "swallowed"
        return "done"

    with pytest.raises(ProcessCrash):
        careful()


@pytest.mark.parametrize(
    ("service", "operation", "kind", "code"),
    [
        ("ec2", "describe_vpcs", FaultKind.THROTTLE, "RequestLimitExceeded"),
        ("rds", "describe_db_instances", FaultKind.THROTTLE, "Throttling"),
        ("ecs", "list_clusters", FaultKind.ACCESS_DENIED, "AccessDeniedException"),
        ("sns", "list_topics", FaultKind.ACCESS_DENIED, "AccessDenied"),
        ("dynamodb", "list_tables", FaultKind.SERVER_ERROR, "InternalServerError"),
    ],
)
def test_each_service_answers_with_its_own_error_code(
    injector: FaultInjector, service: str, operation: str, kind: FaultKind, code: str
) -> None:
    call = getattr(boto3.client(service), operation)
    injector.arm({0: kind})

    with pytest.raises(ClientError) as raised:
        call()

    assert raised.value.response["Error"]["Code"] == code
