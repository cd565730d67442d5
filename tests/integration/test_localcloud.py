"""The local cloud itself: deploying into moto, running functions under the Lambda RIE, routing.

Two stacks are used. The project's own built stack (fixture `stack`) shows that the real
template deploys with real names and wiring. A throwaway probe app (fixtures/probe, deployed
as "localcloud-probe") has a function that echoes, fails and sleeps on request, wired to every
kind of trigger, so the harness's behaviour can be checked without depending on the real
functions' logic. The pure parts (event shapes, partial batch rules, intrinsics, chat
rendering) are tested without any server.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localcloud import (
    Endpoint,
    Project,
    Router,
    ScriptedResponse,
    Stack,
    WebhookReceiver,
    ensure_stack,
    format_chat_message,
    invoke,
)
from localcloud.intrinsics import Resolver, parameter_values
from localcloud.lambda_events import batch_outcome, scheduler_input, sqs_record, target_input
from localcloud.runtime import interpret_response
from localcloud.webhooks import deployed_policy_files, webhook_secrets
from nightshift.notify.events import Inbound
from nightshift.notify.render import slack as slack_renderer
from nightshift.notify.render import teams as teams_renderer
from nightshift.notify.sources import parse
from nightshift.policy import load_policy

FIXTURES = Path(__file__).parent / "fixtures"
PROBE_APP = FIXTURES / "probe"
PROBE_STACK = "localcloud-probe"
CHECKOUT = Path(__file__).resolve().parents[2]
LAMBDA_SQS_RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


def _event(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "events" / name).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ pure parts
def test_sqs_record_has_the_lambda_event_shape_with_lowercase_message_attributes() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "handle-1",
        "Body": '{"n": 1}',
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "Other": "x"},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "alarm"}},
    }

    record = sqs_record(message, "arn:aws:sqs:eu-central-1:123456789012:q", "eu-central-1")

    assert set(record) == LAMBDA_SQS_RECORD_KEYS
    assert record["attributes"] == {"ApproximateReceiveCount": "2", "SentTimestamp": "1"}
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "alarm",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["eventSource"] == "aws:sqs"


def test_partial_batch_response_fails_only_the_listed_items() -> None:
    outcome = batch_outcome(
        ["a", "b", "c"],
        {"batchItemFailures": [{"itemIdentifier": "b"}]},
        function_error=False,
        reports_item_failures=True,
    )

    assert (outcome.succeeded, outcome.failed) == (("a", "c"), ("b",))


def test_unknown_batch_item_identifier_fails_the_whole_batch() -> None:
    outcome = batch_outcome(
        ["a", "b"],
        {"batchItemFailures": [{"itemIdentifier": "zzz"}]},
        function_error=False,
        reports_item_failures=True,
    )

    assert outcome.failed == ("a", "b")
    assert "not in the batch" in outcome.reason


def test_batch_item_failures_are_ignored_without_report_batch_item_failures() -> None:
    outcome = batch_outcome(
        ["a"],
        {"batchItemFailures": [{"itemIdentifier": "a"}]},
        function_error=False,
        reports_item_failures=False,
    )

    assert outcome.succeeded == ("a",)


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(st.uuids().map(str), min_size=1, max_size=10, unique=True),
    data=st.data(),
    function_error=st.booleans(),
)
def test_every_message_of_a_batch_is_either_deleted_or_kept(
    ids: list[str], data: st.DataObject, function_error: bool
) -> None:
    listed = data.draw(st.lists(st.sampled_from([*ids, "", "stranger"]), max_size=5))
    payload = {"batchItemFailures": [{"itemIdentifier": i} for i in listed]}

    outcome = batch_outcome(ids, payload, function_error=function_error, reports_item_failures=True)

    assert sorted(outcome.succeeded + outcome.failed) == sorted(ids)
    assert not set(outcome.succeeded) & set(outcome.failed)


def test_scheduler_input_substitutes_context_attributes() -> None:
    payload = scheduler_input(
        '{"time": "<aws.scheduler.scheduled-time>", "run": "<aws.scheduler.execution-id>"}',
        schedule_arn="arn:aws:scheduler:eu-central-1:123456789012:schedule/default/s",
        scheduled_time="2026-03-29T01:00:00Z",
        execution_id="exec-1",
    )

    assert payload == {"time": "2026-03-29T01:00:00Z", "run": "exec-1"}


def test_input_transformer_renders_the_template_with_paths_from_the_event() -> None:
    event = {"detail": {"repository-name": "todo", "tags": ["a"]}}
    target = {
        "InputTransformer": {
            "InputPathsMap": {"repo": "$.detail.repository-name", "tags": "$.detail.tags"},
            "InputTemplate": '{"repository": "<repo>", "tags": <tags>}',
        }
    }

    assert target_input(event, target) == {"repository": "todo", "tags": ["a"]}


def test_rie_timeout_text_becomes_lambdas_timeout_error() -> None:
    payload, error_type, _ = interpret_response("Task timed out after 1.00 seconds")

    assert error_type == "Sandbox.Timedout"
    assert payload["errorMessage"] == "Task timed out after 1.00 seconds"


def test_intrinsics_resolve_sub_getatt_and_conditions_against_a_stack() -> None:
    resolver = Resolver(
        parameters={"Environment": "staging", "OpsEmail": ""},
        ref=lambda logical_id: f"physical-{logical_id}",
        get_att=lambda logical_id, name: f"{logical_id}.{name}",
        conditions={"HasOpsEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "OpsEmail"}, ""]}]}},
    )

    resolved = resolver.resolve(
        {
            "AlarmName": {"Fn::Sub": "nightshift-${Environment}-errors"},
            "Dimensions": [{"Value": {"Ref": "Fn"}}],
            "Actions": [{"Fn::GetAtt": ["Queue", "Arn"]}],
            "Email": {"Fn::If": ["HasOpsEmail", {"Ref": "OpsEmail"}, {"Ref": "AWS::NoValue"}]},
        }
    )

    assert resolved == {
        "AlarmName": "nightshift-staging-errors",
        "Dimensions": [{"Value": "physical-Fn"}],
        "Actions": ["Queue.Arn"],
    }


def test_parameter_values_apply_defaults_and_reject_unknown_names() -> None:
    declared = {"Environment": {"Type": "String", "Default": "staging"}}

    assert parameter_values(declared, {}) == {"Environment": "staging"}
    with pytest.raises(Exception, match="unknown parameter"):
        parameter_values(declared, {"Enviroment": "prod"})


def test_receiver_shows_a_notifier_message_as_the_chat_client_would() -> None:
    fixture = (
        Path(__file__).resolve().parents[2] / "events" / "notifier" / "cloudwatch-alarm-metric.json"
    )
    record = json.loads(fixture.read_text(encoding="utf-8"))["Records"][0]
    notification = parse(Inbound.from_sqs_body(record["body"], record["messageId"]))

    slack = format_chat_message(slack_renderer.render(notification)).splitlines()
    teams = format_chat_message(teams_renderer.render(notification)).splitlines()

    assert slack[0] == "[slack]"
    assert "▌:red_circle: ALARM: todoapp-backend-high-cpu" in slack
    assert teams[0] == "[teams]"
    assert any("ALARM: todoapp-backend-high-cpu" in line for line in teams)


def test_receiver_answers_scripted_statuses_then_its_default_and_records_everything() -> None:
    with WebhookReceiver() as receiver:
        receiver.script(ScriptedResponse(429, {"Retry-After": "1"}), 500)
        answers = [_post(receiver.url_for("oncall"), {"text": f"try {n}"}) for n in range(3)]

        assert [status for status, _ in answers] == [429, 500, 200]
        assert answers[0][1].get("Retry-After") == "1"
        assert [r.json for r in receiver.requests] == [{"text": f"try {n}"} for n in range(3)]
        assert {r.destination for r in receiver.requests} == {"oncall"}
        assert "--- POST /oncall -> 429" in receiver.render()


def _post(url: str, body: Any) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


# ------------------------------------------------------------------- the project's own stack
@pytest.mark.integration
class TestNightshiftStack:
    def test_every_function_is_deployed_with_a_real_name(self, stack: Stack) -> None:
        client = stack.endpoint.client("lambda")

        for logical_id in stack.function_logical_ids():
            name = stack.function_name(logical_id)
            assert name.startswith(f"{stack.name}-{logical_id}-")
            configuration = client.get_function_configuration(FunctionName=name)
            assert configuration["Runtime"] == "python3.13"
        assert stack.outputs["OpsTopicArn"] == stack.physical_id("OpsTopic")

    def test_a_redeploy_with_the_same_build_reuses_the_stack(
        self, stack: Stack, moto_endpoint: Endpoint, project: Project
    ) -> None:
        again = ensure_stack(moto_endpoint, project)

        assert again.resources == stack.resources
        assert again.deploy_seconds == 0

    def test_resources_moto_skips_are_created_from_the_template(self, stack: Stack) -> None:
        alarms = stack.resources_of_type("AWS::CloudWatch::Alarm")
        described = stack.endpoint.client("cloudwatch").describe_alarms()["MetricAlarms"]
        by_name = {alarm["AlarmName"]: alarm for alarm in described}
        function_names = {stack.function_name(f) for f in stack.function_logical_ids()}

        assert alarms, "the template has alarms"
        for logical_id in alarms:
            alarm = by_name[stack.physical_id(logical_id)]
            assert alarm["AlarmActions"] == [stack.physical_id("OpsTopic")]
            for dimension in alarm["Dimensions"]:
                if dimension["Name"] == "FunctionName":
                    assert dimension["Value"] in function_names
        assert stack.skipped["OpsEmailSubscription"] == "condition HasOpsEmail is false"

    def test_a_publish_to_the_ops_topic_reaches_the_notifier_queue(
        self, stack: Stack, router: Router
    ) -> None:
        (trigger,) = [t for t in router.queue_triggers() if t.function == "NotifierFunction"]
        queue_url = stack.queue_url(trigger.queue_arn)

        report = router.publish("OpsTopic", {"probe": 1}, subject="harness", drain=False)

        messages = stack.endpoint.client("sqs").receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10
        )["Messages"]
        envelope = json.loads(messages[0]["Body"])
        assert envelope["MessageId"] == report.message_id
        assert envelope["TopicArn"] == stack.physical_id("OpsTopic")
        assert json.loads(envelope["Message"]) == {"probe": 1}
        stack.endpoint.client("sqs").delete_message(
            QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"]
        )

    def test_every_built_function_loads_its_handler_and_layers_under_the_rie(
        self, stack: Stack
    ) -> None:
        # An empty event is wrong for every function; what matters is that the handler module
        # and its layer imports load without the dev venv (no Runtime.ImportModuleError).
        for logical_id in stack.function_logical_ids():
            result = invoke(stack, logical_id, {"localcloud": "import check"})

            assert not (result.error_type or "").startswith("Runtime."), result.logs

    def test_the_policys_webhook_secrets_point_at_the_receiver(
        self, stack: Stack, webhook_receiver: WebhookReceiver
    ) -> None:
        secrets = stack.endpoint.client("secretsmanager")
        (policy_file,) = deployed_policy_files(stack)

        expected = webhook_secrets(load_policy(policy_file))
        assert expected, "the policy names webhook destinations"
        for destination, secret in expected.items():
            value = secrets.get_secret_value(SecretId=secret)["SecretString"]
            assert value == webhook_receiver.url_for(destination)

    def test_an_ecr_push_matches_a_rule_targeting_a_function_and_a_delete_matches_none(
        self, stack: Stack, router: Router
    ) -> None:
        if not stack.resources_of_type("AWS::Events::Rule"):
            pytest.skip("the template has no EventBridge rules yet")
        function_names = {stack.function_name(f) for f in stack.function_logical_ids()}

        matched = router.matching_rules(_event("ecr-image-action-push.json"))

        assert matched
        for targets in matched.values():
            assert {t["Arn"].rsplit(":", 1)[-1] for t in targets} <= function_names
        assert router.matching_rules(_event("ecr-image-action-delete.json")) == {}

    def test_every_schedule_targets_a_function_with_a_renderable_input(
        self, stack: Stack, router: Router
    ) -> None:
        schedules = [s for s in stack.emulated.values() if s.type == "AWS::Scheduler::Schedule"]
        if not schedules:
            pytest.skip("the template has no EventBridge Scheduler schedules yet")
        scheduler = stack.endpoint.client("scheduler")

        for schedule in schedules:
            deployed = scheduler.get_schedule(Name=schedule.physical_id)
            assert deployed["Target"]["Arn"] == schedule.properties["Target"]["Arn"]
            stack.function_for(deployed["Target"]["Arn"])
            rendered = scheduler_input(
                deployed["Target"].get("Input"),
                schedule_arn=deployed["Arn"],
                scheduled_time="2026-03-29T01:00:00Z",
                execution_id="exec-1",
            )
            assert "<aws.scheduler." not in json.dumps(rendered)


# -------------------------------------------------------------------------- the probe app
@pytest.fixture(scope="module")
def probe(moto_endpoint: Endpoint, project: Project) -> Stack:
    """The probe app (not built: `sam package` zips its source folders directly)."""
    return ensure_stack(moto_endpoint, project.with_build_dir(PROBE_APP), PROBE_STACK)


@pytest.fixture
def probe_router(probe: Stack) -> Iterator[Router]:
    """A router of the probe app whose queues are empty before and after the test."""
    _empty_queues(probe)
    yield Router(probe, retry_now=True)
    _empty_queues(probe)


def _empty_queues(stack: Stack) -> None:
    # Not PurgeQueue: SQS (and moto) allow one purge per queue per minute.
    sqs = stack.endpoint.client("sqs")
    for logical_id in stack.resources_of_type("AWS::SQS::Queue"):
        queue_url = stack.physical_id(logical_id)
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            for message in messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _queue_bodies(stack: Stack, logical_id: str) -> list[dict[str, Any]]:
    """The visible messages of a queue (left visible, for the next look or the cleanup)."""
    messages = stack.endpoint.client("sqs").receive_message(
        QueueUrl=stack.physical_id(logical_id),
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        VisibilityTimeout=0,
    )
    return [
        {"body": json.loads(m["Body"]), "attributes": m.get("MessageAttributes", {})}
        for m in messages.get("Messages", [])
    ]


@pytest.mark.integration
class TestRuntime:
    def test_function_sees_its_deployed_environment_layers_and_moto(self, probe: Stack) -> None:
        result = invoke(probe, "ProbeFunction", {"action": "echo"})

        assert not result.error, result.logs
        echoed = result.payload
        assert echoed["greeting"] == "hello"  # the template parameter's default, via moto
        assert echoed["config"] == {"shipped_in": "ProbeLayer"}  # /opt/probe.json
        assert echoed["layer"] == "probe-layer"  # /opt/python on sys.path
        assert echoed["queue_arn"] == probe.queue_arn(probe.physical_id("WorkQueue"))
        assert echoed["function_name"] == probe.function_name("ProbeFunction")
        assert echoed["memory_limit_in_mb"] == "128"
        # Lambda's ARN of the function, not the RIE's made-up us-east-1/012345678912 one.
        configuration = probe.endpoint.client("lambda").get_function_configuration(
            FunctionName=probe.function_name("ProbeFunction")
        )
        assert echoed["invoked_function_arn"] == configuration["FunctionArn"]
        assert f":{probe.endpoint.region}:{probe.account_id}:" in echoed["invoked_function_arn"]
        assert echoed["bootstrap_variable_visible"] is False
        assert echoed["environ"]["AWS_SAM_LOCAL"] == "true"
        assert echoed["python"] == [3, 13]
        assert echoed["dev_tools_visible"] is False
        assert result.request_id in result.logs

    def test_environment_overrides_win(self, probe: Stack) -> None:
        result = invoke(probe, "ProbeFunction", {}, env_overrides={"PROBE_GREETING": "hi"})

        assert result.payload["greeting"] == "hi"

    def test_an_unhandled_error_comes_back_as_lambdas_error_object(self, probe: Stack) -> None:
        result = invoke(probe, "ProbeFunction", {"action": "raise"})

        assert result.error
        assert result.error_type == "ValueError"
        assert result.error_message == "the probe was asked to fail"
        assert result.payload["stackTrace"]

    def test_a_function_running_past_its_timeout_is_stopped(self, probe: Stack) -> None:
        result = invoke(probe, "SlowProbeFunction", {"action": "sleep", "seconds": 30})

        assert result.timed_out
        assert result.duration_ms < 10_000


@pytest.mark.integration
class TestRouting:
    def test_partial_batch_failure_deletes_the_rest_and_redrives_the_failure_to_the_dlq(
        self, probe: Stack, probe_router: Router
    ) -> None:
        sqs = probe.endpoint.client("sqs")
        queue_url = probe.physical_id("WorkQueue")
        sent = [
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))["MessageId"]
            for body in ({"n": 1}, {"n": 2, "fail": True}, {"n": 3})
        ]

        report = probe_router.drain("WorkQueue")

        first, second = report.batches
        assert sorted(first.message_ids) == sorted(sent)
        assert set(first.outcome.failed) == {sent[1]}
        assert second.message_ids == (sent[1],)
        records = first.result.payload["records"]
        assert all(set(record) == LAMBDA_SQS_RECORD_KEYS for record in records)
        receive_counts = [
            batch.result.payload["records"][0]["attributes"]["ApproximateReceiveCount"]
            for batch in (first, second)
        ]
        assert receive_counts == ["1", "2"]
        assert set(report.deleted) == {sent[0], sent[2]}
        assert report.failed == (sent[1],)
        # maxReceiveCount is 2: the third receive moved the message to the dead-letter queue.
        assert [m["body"] for m in _queue_bodies(probe, "WorkDeadLetterQueue")] == [
            {"n": 2, "fail": True}
        ]
        assert _queue_bodies(probe, "WorkQueue") == []

    def test_a_whole_batch_error_deletes_nothing(self, probe: Stack, probe_router: Router) -> None:
        sqs = probe.endpoint.client("sqs")
        queue_url = probe.physical_id("WorkQueue")
        for body in ({"n": 1}, {"crash": True}):
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))

        report = probe_router.drain("WorkQueue", retry_now=False)

        (batch,) = report.batches
        assert batch.result.error_type == "RuntimeError"
        assert report.deleted == ()
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
        sqs.change_message_visibility_batch(  # let the cleanup see them again
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": record["receiptHandle"], "VisibilityTimeout": 0}
                for n, record in enumerate(batch.event["Records"])
            ],
        )

    def test_a_publish_reaches_the_subscribed_queue_and_its_function(
        self, probe_router: Router
    ) -> None:
        report = probe_router.publish("WorkTopic", {"n": 7})

        (drain,) = report.drains
        (batch,) = drain.batches
        (record,) = batch.result.payload["records"]
        assert json.loads(record["body"]) == {"n": 7}  # the subscription is raw delivery
        assert drain.deleted == (record["messageId"],)

    def test_a_lambda_subscription_gets_the_sns_event(self, probe_router: Router) -> None:
        report = probe_router.publish("DirectTopic", "hello", subject="greeting")

        (delivery,) = report.deliveries
        (record,) = delivery.result.payload["event"]["Records"]
        assert record["EventSource"] == "aws:sns"
        assert record["Sns"]["MessageId"] == report.message_id
        assert (record["Sns"]["Message"], record["Sns"]["Subject"]) == ("hello", "greeting")

    def test_an_event_matching_a_rule_is_delivered_to_its_function_as_is(
        self, probe: Stack, probe_router: Router
    ) -> None:
        push = _event("ecr-image-action-push.json")

        report = probe_router.put_event(push)

        assert report.matched_rules == ("ProbeFunctionPushes",)
        (delivery,) = report.deliveries
        assert delivery.result.payload["event"] == push
        assert delivery.attempts == 1

    def test_an_event_no_rule_matches_goes_nowhere(self, probe_router: Router) -> None:
        report = probe_router.put_event({"source": "elsewhere", "detail-type": "Nothing"})

        assert (report.matched_rules, report.deliveries) == ((), ())

    def test_a_rule_targeting_a_topic_publishes_the_event_and_drains_its_queue(
        self, probe_router: Router
    ) -> None:
        report = probe_router.put_event(
            {"source": "probe.reports", "detail-type": "Report", "detail": {"ok": True}}
        )

        (delivery,) = report.deliveries
        assert delivery.kind == "sns"
        (record,) = delivery.drains[0].batches[0].result.payload["records"]
        assert json.loads(record["body"])["detail"] == {"ok": True}

    def test_a_failing_async_invocation_is_retried_then_sent_to_its_destination_and_dlq(
        self, probe: Stack, probe_router: Router
    ) -> None:
        report = probe_router.put_event(
            {"source": "probe.commands", "detail-type": "Command", "detail": {"action": "raise"}}
        )

        (delivery,) = report.deliveries
        assert delivery.payload == {"action": "raise"}  # the rule's InputPath: $.detail
        assert (delivery.attempts, delivery.result.error_type) == (2, "ValueError")
        (failure,) = _queue_bodies(probe, "AsyncFailureQueue")
        record = failure["body"]
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["requestPayload"] == {"action": "raise"}
        assert record["responsePayload"]["errorType"] == "ValueError"
        (dead,) = _queue_bodies(probe, "AsyncDeadLetterQueue")
        assert dead["body"] == {"action": "raise"}
        assert dead["attributes"]["RequestID"]["StringValue"] == delivery.result.request_id

    def test_a_schedule_fires_its_target_with_the_scheduled_time(
        self, probe_router: Router
    ) -> None:
        assert probe_router.schedules() == ("ProbeFunctionHourly", "ProbeFunctionTick")

        report = probe_router.fire_schedule(
            "ProbeFunctionTick", "2026-03-29T01:00:00Z", execution_id="exec-1"
        )

        (delivery,) = report.deliveries
        assert delivery.result.payload["event"] == {
            "action": "echo",
            "scheduled": "2026-03-29T01:00:00Z",
            "execution": "exec-1",
        }

    def test_a_scheduled_rule_fires_a_scheduled_event_at_the_given_time(
        self, probe: Stack, probe_router: Router
    ) -> None:
        report = probe_router.fire_schedule("ProbeFunctionHourly", "2026-03-29T02:00:00Z")

        (delivery,) = report.deliveries
        event = delivery.result.payload["event"]
        assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")
        assert event["time"] == "2026-03-29T02:00:00Z"
        assert event["resources"] == [probe.attribute("ProbeFunctionHourly", "Arn")]

    def test_moto_skipped_resources_of_the_probe_exist_with_resolved_references(
        self, probe: Stack
    ) -> None:
        endpoint = probe.endpoint
        alarm = endpoint.client("cloudwatch").describe_alarms(
            AlarmNames=[probe.physical_id("ProbeErrorsAlarm")]
        )["MetricAlarms"][0]
        work_subscriptions = endpoint.client("sns").list_subscriptions_by_topic(
            TopicArn=probe.physical_id("WorkTopic")
        )["Subscriptions"]
        direct_subscriptions = endpoint.client("sns").list_subscriptions_by_topic(
            TopicArn=probe.physical_id("DirectTopic")
        )["Subscriptions"]
        mappings = endpoint.client("lambda").list_event_source_mappings(
            FunctionName=probe.function_name("ProbeFunction")
        )["EventSourceMappings"]

        assert alarm["Dimensions"] == [
            {"Name": "FunctionName", "Value": probe.function_name("ProbeFunction")}
        ]
        assert alarm["AlarmActions"] == [probe.physical_id("WorkTopic")]
        assert [s["Endpoint"] for s in work_subscriptions] == [
            probe.queue_arn(probe.physical_id("WorkQueue"))
        ]
        assert direct_subscriptions == []  # lambda subscriptions are the router's to deliver
        assert [m["State"] for m in mappings] == ["Disabled"]  # the router polls, not moto


@pytest.mark.integration
class TestInvokeScript:
    def _run(self, probe: Stack, event: Any, tmp_path: Path) -> subprocess.CompletedProcess[str]:
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        environ = {
            **os.environ,
            **probe.endpoint.environ(),
        }
        return subprocess.run(
            [
                str(CHECKOUT / "scripts" / "invoke"),
                "ProbeFunction",
                str(event_file),
                "--stack-name",
                PROBE_STACK,
                "--build-dir",
                str(PROBE_APP),
            ],
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def test_prints_the_result_on_stdout_and_the_logs_on_stderr(
        self, probe: Stack, tmp_path: Path
    ) -> None:
        done = self._run(probe, {"action": "echo", "n": 1}, tmp_path)

        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["event"] == {"action": "echo", "n": 1}
        assert "START RequestId:" in done.stderr
        assert "deployed stack" not in done.stderr  # the probe stack was already there

    def test_exits_non_zero_with_the_error_object_when_the_function_fails(
        self, probe: Stack, tmp_path: Path
    ) -> None:
        done = self._run(probe, {"action": "raise"}, tmp_path)

        assert done.returncode == 1
        assert json.loads(done.stdout)["errorType"] == "ValueError"
        assert "the function failed: ValueError" in done.stderr
