"""The local cloud's in-process mode for measurement (localcloud.inprocess): every request counted
by service and action, AWS's token buckets enforced on demand with AWS's answers, control
requests never counted, and, in a cloud process, moto paging snapshot listings as AWS does."""

from __future__ import annotations

import doctest
import http.client
import os
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import throttle_proxy
from localcloud.inprocess import CloudProcess, InProcessCloud
from localcloud.server import FAKE_CREDENTIALS, Endpoint

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def cloud() -> Iterator[InProcessCloud]:
    # moto's own answers: the AWS-like patches would hold for the rest of this test process.
    with InProcessCloud.start(aws_answers=False) as started:
        yield started


def test_throttle_proxy_examples_hold() -> None:
    assert doctest.testmod(throttle_proxy).failed == 0


def test_requests_are_counted_by_service_and_action_and_the_meter_starts_again(
    cloud: InProcessCloud,
) -> None:
    cloud.reset()
    cloud.endpoint.client("sns").create_topic(Name="counted")
    cloud.endpoint.client("sns").list_topics()

    assert cloud.proxy.take_meter().requests == {"sns:CreateTopic": 1, "sns:ListTopics": 1}
    assert cloud.proxy.take_meter().requests == {}


def test_control_requests_are_answered_by_the_cloud_and_not_counted(cloud: InProcessCloud) -> None:
    cloud.reset()
    cloud.control("POST", "/__localcloud/throttle", b'{"rate_scale": null}')
    missing, _ = cloud.control("GET", "/__localcloud/nothing", b"")
    status, body = cloud.control("POST", "/__localcloud/meter", b"")

    assert (status, missing) == (200, 404)
    assert b'"requests": {}' in body


def test_delete_snapshot_beyond_ec2_burst_is_refused_as_aws_refuses_it(
    cloud: InProcessCloud,
) -> None:
    cloud.reset()
    client = boto3.client(
        "ec2",
        endpoint_url=cloud.endpoint.url,
        region_name=cloud.endpoint.region,
        config=NO_RETRIES,
        **_credentials(),
    )
    cloud.proxy.throttle(rate_scale=1e-6)  # the documented burst of 100, next to no refill
    codes = [_error_code(lambda: client.delete_snapshot(SnapshotId="snap-0")) for _ in range(101)]
    meter = cloud.proxy.take_meter()
    cloud.proxy.throttle(None)

    assert codes[:100] == ["InvalidSnapshot.NotFound"] * 100
    assert codes[100] == "RequestLimitExceeded"
    assert meter.requests == {"ec2:DeleteSnapshot": 101}
    assert meter.throttled == {"ec2:DeleteSnapshot": 1}


def test_cloud_process_pages_rds_snapshots_as_aws_does() -> None:
    environment = {**os.environ, **FAKE_CREDENTIALS}
    environment.pop("AWS_ENDPOINT_URL", None)
    with CloudProcess.start("localcloud.inprocess", environment) as process:
        rds = Endpoint(process.url).client("rds")
        rds.create_db_instance(
            DBInstanceIdentifier="db",
            Engine="postgres",
            DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20,
            MasterUsername="app",
            MasterUserPassword="correct-horse-battery",
            BackupRetentionPeriod=0,
        )
        for n in range(101):
            rds.create_db_snapshot(DBInstanceIdentifier="db", DBSnapshotIdentifier=f"s-{n:03d}")
        process.take_meter()
        first = rds.describe_db_snapshots(MaxRecords=100)
        meter = process.take_meter()

    assert len(first["DBSnapshots"]) == 100
    assert "Marker" in first
    assert meter["requests"] == {"rds:DescribeDBSnapshots": 1}


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def _error_code(call: Callable[[], object]) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "none"


def test_the_constant_lookups_answer_as_moto_worked_them_out_per_request(
    cloud: InProcessCloud,
) -> None:
    # The cloud fixture started the server, so the lookups are the once-only ones by now.
    import moto
    import moto.backends as moto_backends
    import moto.core.responses as moto_responses
    from moto.core.utils import method_names_from_class
    from moto.ec2.responses import EC2Response
    from moto.rds.responses import RDSResponse

    directory = os.path.dirname(moto.__file__)
    modules = sorted(
        name
        for name in os.listdir(directory)
        if os.path.isdir(os.path.join(directory, name)) and not name.startswith("__")
    )

    for response in (EC2Response, RDSResponse, EC2Response):
        assert moto_responses.method_names_from_class(response) == method_names_from_class(response)
    assert list(moto_backends.list_of_moto_modules()) == modules
    cloud.reset()
    volume = cloud.endpoint.client("ec2").create_volume(Size=1, AvailabilityZone="eu-central-1a")
    cloud.endpoint.client("ec2").delete_volume(VolumeId=volume["VolumeId"])
    assert cloud.proxy.take_meter().errors == {}


def _post(connection: http.client.HTTPConnection, body: str, **headers: str) -> tuple[int, str]:
    connection.request(
        "POST",
        "/",
        body=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("Connection") or ""


def test_a_kept_alive_server_answers_many_requests_on_one_connection() -> None:
    """keep_alive=True: one TCP connection serves request after request (the client's connection
    pool reuses it, as with AWS's endpoints), and every request reaches moto."""
    with InProcessCloud.start(aws_answers=False, keep_alive=True) as cloud:
        host, port = cloud.endpoint.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        signed = (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/eu-central-1/sns/"
            "aws4_request, SignedHeaders=host, Signature=0"
        )
        answers = [
            _post(
                connection,
                f"Action=CreateTopic&Name=kept-{n}&Version=2010-03-31",
                Authorization=signed,
            )
            for n in range(3)
        ]
        assert answers == [(200, "")] * 3
        socket_before = connection.sock
        assert _post(connection, "Action=ListTopics&Version=2010-03-31", Authorization=signed) == (
            200,
            "",
        )
        assert connection.sock is socket_before  # not reconnected
        assert cloud.proxy.served("sns:CreateTopic") == 3
        topics = cloud.endpoint.client("sns").list_topics()["Topics"]
        assert len([t for t in topics if ":kept-" in t["TopicArn"]]) == 3
        connection.close()
