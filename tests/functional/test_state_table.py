"""StateTable against the state table of template.yaml, in moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from nightshift.adapters.state_table import CONDITION_FAILED, ConditionFailed, StateTable
from nightshift.errors import AwsError
from tests.support.nightshift import AMBIENT_VARIABLES, create_state_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-central-1"
TABLE = "nightshift-state"
NEWER_ONLY = "attribute_not_exists(sk) OR version <= :version"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    for name in AMBIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_state_table(client, TABLE)
        yield client


@pytest.fixture
def table(dynamodb: DynamoDBClient) -> StateTable:
    return StateTable(TABLE, dynamodb)


def versioned(version: int) -> dict[str, Any]:
    return {
        "pk": {"S": "test#versioned"},
        "sk": {"S": "one"},
        "version": {"N": str(version)},
        "expiration": {"N": "1900000000"},
    }


def test_item_put_is_read_back_whole_and_a_missing_item_reads_as_none(table: StateTable) -> None:
    assert table.get("test#versioned", "one") is None

    table.put(versioned(1))

    assert table.get("test#versioned", "one") == versioned(1)
    assert table.get("test#versioned", "other") is None


def test_deleted_item_is_gone_and_deleting_a_missing_item_is_fine(table: StateTable) -> None:
    table.put(versioned(1))

    table.delete("test#versioned", "one")
    table.delete("test#versioned", "one")

    assert table.get("test#versioned", "one") is None


def test_conditional_put_that_holds_writes_the_item(table: StateTable) -> None:
    table.put(versioned(1), condition=NEWER_ONLY, values={":version": {"N": "1"}})
    table.put(versioned(2), condition=NEWER_ONLY, values={":version": {"N": "2"}})

    assert table.get("test#versioned", "one") == versioned(2)


def test_conditional_put_that_fails_raises_condition_failed_and_keeps_the_item(
    table: StateTable,
) -> None:
    table.put(versioned(2))

    with pytest.raises(ConditionFailed) as raised:
        table.put(versioned(1), condition=NEWER_ONLY, values={":version": {"N": "1"}})

    assert isinstance(raised.value, AwsError)
    assert (raised.value.operation, raised.value.code) == ("PutItem", CONDITION_FAILED)
    assert raised.value.held is None
    assert table.get("test#versioned", "one") == versioned(2)


def test_conditional_put_that_fails_with_return_held_carries_the_item_kept(
    table: StateTable,
) -> None:
    table.put(versioned(2))

    with pytest.raises(ConditionFailed) as raised:
        table.put(
            versioned(1), condition=NEWER_ONLY, values={":version": {"N": "1"}}, return_held=True
        )

    assert raised.value.held == versioned(2)


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda table: table.get("test#versioned", "one"), "GetItem"),
        (lambda table: table.put(versioned(1)), "PutItem"),
        (lambda table: table.put(versioned(1), condition="attribute_not_exists(sk)"), "PutItem"),
        (lambda table: table.delete("test#versioned", "one"), "DeleteItem"),
    ],
)
def test_failed_call_raises_aws_error_named_after_its_operation_with_aws_code(
    dynamodb: DynamoDBClient, call: Callable[[StateTable], object], operation: str
) -> None:
    missing = StateTable("no-such-table", dynamodb)

    with pytest.raises(AwsError) as raised:
        call(missing)

    assert not isinstance(raised.value, ConditionFailed)
    assert (raised.value.operation, raised.value.code) == (operation, "ResourceNotFoundException")
