"""Notifier burst (issue 17, goal 5): 1,000 CloudWatch alarm messages published at once to the ops
topic, through the queue, to the notifier, to a webhook; the time of each from publish to the
webhook's receipt.

    .venv/bin/python -m bench.notifier_burst [--messages 1000]

The path as deployed (template.yaml): the ops topic (OpsTopic) delivers to NotifierQueue (an SNS
subscription without raw delivery, so each message keeps its SNS envelope; the queue's
visibility timeout and redrive policy as the template sets them), and Lambda's SQS event source
mapping hands the notifier batches of up to `BatchSize`, waiting up to
`MaximumBatchingWindowInSeconds` to fill one, with at most `ReservedConcurrentExecutions`
invocations at a time. All four numbers are read from template.yaml.

What runs where: moto's SNS and SQS in the bench cloud (bench/cloud.py), which delivers each
published message to the subscribed queue as SNS does. Lambda's side is played by one worker
process per unit of concurrency (`--worker`): each imports the real handler once (a warm
execution environment; its cold start is measured apart), then loops as the event source
mapping's poller does: receive up to the batch size (waiting out the batching window for a
partial batch), invoke `lambda_handler` with Lambda's SQS event (localcloud.lambda_events), and
delete what the partial batch response says succeeded. The handler posts to a local webhook
receiver (localcloud.receiver) through its real adapters: the webhook URL from Secrets Manager,
the delivery ledger and alarm memory in the state table.

Why not the local cloud's runtime emulator (localcloud.runtime, Lambda's RIE): it starts a new
process for every invocation (each a cold start of about a second here) and needs the stack
built and deployed; 100 batches would measure 100 cold starts on two cores, where Lambda keeps
five environments warm. The handler, its adapters and every AWS call are the same.

The time of a message is from just before its `sns.publish` (as CloudWatch hands the alarm to
SNS) to the moment the receiver recorded the webhook request (both `time.time()` on this
machine). The messages are published by 16 threads, one Publish each, as CloudWatch would
publish 1,000 alarms' transitions.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import emit_results
from bench.cloud import AWS_ENVIRONMENT, BenchCloud
from bench.fleets import REGION
from bench.tools import POWERTOOLS_ENVIRONMENT, ROOT, _tool_environment
from localcloud.declared import function_variables, template_resource

MESSAGES = 1000
QUICK_MESSAGES = 100
PUBLISHERS = 16
ALARM_EVENT = ROOT / "events" / "notifier" / "cloudwatch-alarm-metric.json"
SECRET = "nightshift/slack-burst"
POLICY = f"""
version: 1
notify:
  destinations:
    oncall: {{type: slack, secret: {SECRET}}}
  routes:
    - {{to: [oncall]}}
"""
NAME = re.compile(r"burst-alarm-(\d{5})")


def deployment() -> dict[str, Any]:
    """What template.yaml says of the notifier's queue, event source and concurrency."""
    function = template_resource("NotifierFunction")["Properties"]
    (source,) = [e["Properties"] for e in function["Events"].values() if e["Type"] == "SQS"]
    queue = template_resource("NotifierQueue")["Properties"]
    return {
        "batch_size": int(source.get("BatchSize", 10)),
        "batching_window_s": float(source.get("MaximumBatchingWindowInSeconds", 0)),
        "reports_item_failures": "ReportBatchItemFailures"
        in source.get("FunctionResponseTypes", []),
        "concurrency": int(function["ReservedConcurrentExecutions"]),
        "visibility_timeout_s": int(queue["VisibilityTimeout"]),
        "max_receive_count": int(queue["RedrivePolicy"]["maxReceiveCount"]),
        "raw_delivery": bool(
            template_resource("NotifierQueueSubscription")["Properties"]["RawMessageDelivery"]
        ),
    }


def alarm_message(number: int, now: float) -> tuple[str, str, str]:
    """(alarm name, subject, message) of a metric alarm going OK -> ALARM now, in the shape of
    the fixture events/notifier/cloudwatch-alarm-metric.json (a real CloudWatch notification)."""
    envelope = json.loads(json.loads(ALARM_EVENT.read_text(encoding="utf-8"))["Records"][0]["body"])
    alarm = json.loads(envelope["Message"])
    name = f"burst-alarm-{number:05d}"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".000+0000"
    alarm |= {
        "AlarmName": name,
        "AlarmArn": alarm["AlarmArn"].rsplit(":", 1)[0] + f":{name}",
        "StateChangeTime": stamp,
    }
    return name, f'ALARM: "{name}" in EU (Frankfurt)', json.dumps(alarm)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5), percentile([1.0, 2.0, 3.0, 4.0], 0.9)
    (2.0, 4.0)
    """
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# ------------------------------------------------------------------------------ the parent side
def measure(cloud: BenchCloud, *, messages: int, progress: Any = None) -> dict[str, Any]:
    from localcloud.receiver import WebhookReceiver
    from localcloud.server import Endpoint

    say = progress or (lambda _: None)
    setup = deployment()
    cloud.reset()
    nightshift = cloud.create_nightshift()
    endpoint = Endpoint(cloud.endpoint, REGION)
    sns, sqs = endpoint.client("sns"), endpoint.client("sqs")
    dead = sqs.create_queue(QueueName="nightshift-notifier-dlq")["QueueUrl"]
    dead_arn = _queue_arn(sqs, dead)
    queue = sqs.create_queue(
        QueueName="nightshift-notifier",
        Attributes={
            "VisibilityTimeout": str(setup["visibility_timeout_s"]),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_arn, "maxReceiveCount": setup["max_receive_count"]}
            ),
        },
    )["QueueUrl"]
    sns.subscribe(
        TopicArn=nightshift["topic"],
        Protocol="sqs",
        Endpoint=_queue_arn(sqs, queue),
        Attributes={"RawMessageDelivery": str(setup["raw_delivery"]).lower()},
    )
    with (
        tempfile.TemporaryDirectory(prefix="nightshift-burst-") as scratch,
        WebhookReceiver() as receiver,
    ):
        endpoint.client("secretsmanager").create_secret(
            Name=SECRET, SecretString=receiver.url_for("oncall")
        )
        policy = Path(scratch, "policy.yaml")
        policy.write_text(POLICY, encoding="utf-8")
        workers = _start_workers(cloud, Path(scratch), setup, queue, nightshift, policy)
        try:
            cold_starts = _wait_ready(Path(scratch), len(workers))
            cloud.take_meter()
            say(f"notifier burst: {len(workers)} warm workers; publishing {messages:,} alarms")
            published, publish_s = _publish(sns, nightshift["topic"], messages)
            received = receiver.wait_for(messages, timeout=max(120.0, messages * 0.5))
            finished = time.time()
        finally:
            Path(scratch, "stop").touch()
            for worker in workers:
                worker.wait(timeout=120)
        server = cloud.take_meter()
        stats = [
            json.loads(Path(scratch, f"worker-{n}.json").read_text(encoding="utf-8"))
            for n in range(len(workers))
        ]
    latencies, duplicates = _latencies(published, received)
    left = int(
        sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )
    batches = [size for worker in stats for size in worker["batch_sizes"]]
    handler_s = [seconds for worker in stats for seconds in worker["handler_s"]]
    first = min(published.values())
    result = {
        "messages": messages,
        "deployment": setup,
        "publishers": PUBLISHERS,
        "publish_s": publish_s,
        "delivered": len(latencies),
        "duplicates": duplicates,
        "dead_lettered": left,
        "latency_s": {
            "p50": percentile(latencies, 0.5),
            "p90": percentile(latencies, 0.9),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies),
            "min": min(latencies),
        }
        if latencies
        else {},
        "total_s": (max(r.received_at for r in received) if received else finished) - first,
        "invocations": len(batches),
        "batch_size_mean": statistics.mean(batches) if batches else 0,
        "handler_s_median": statistics.median(handler_s) if handler_s else 0,
        "handler_s_sum": sum(handler_s),
        "cold_start_import_s": cold_starts,
        "failed_items": sum(worker["failed_items"] for worker in stats),
        "errors": [error for worker in stats for error in worker["errors"]],
        "requests": server["requests"],
    }
    lat = result["latency_s"]
    say(
        f"notifier burst: {len(latencies):,}/{messages:,} delivered; p50 {lat.get('p50', 0):.2f} s,"
        f" p90 {lat.get('p90', 0):.2f} s, max {lat.get('max', 0):.2f} s; total"
        f" {result['total_s']:.1f} s in {len(batches)} invocations"
    )
    return result


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _start_workers(
    cloud: BenchCloud,
    scratch: Path,
    setup: dict[str, Any],
    queue: str,
    nightshift: dict[str, str],
    policy: Path,
) -> list[subprocess.Popen[bytes]]:
    environment = {
        **_tool_environment(cloud),
        **function_variables(
            service="notifier",
            policy_file=policy,
            table=nightshift["table"],
            topic_arn=nightshift["topic"],
            environment="bench",
            region=REGION,
        ),
        **POWERTOOLS_ENVIRONMENT,
        **AWS_ENVIRONMENT,
        "AWS_ENDPOINT_URL": cloud.endpoint,
    }
    workers = []
    for number in range(setup["concurrency"]):
        request = scratch / f"request-{number}.json"
        request.write_text(
            json.dumps({"number": number, "queue": queue, "scratch": str(scratch)} | setup),
            encoding="utf-8",
        )
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.notifier_burst", "--worker", str(request)],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
            )
        )
    return workers


def _wait_ready(scratch: Path, count: int, timeout: float = 120.0) -> list[float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = sorted(scratch.glob("ready-*.json"))
        if len(ready) == count:
            return [json.loads(path.read_text(encoding="utf-8"))["import_s"] for path in ready]
        time.sleep(0.1)
    raise RuntimeError(f"the notifier workers did not start within {timeout:.0f} s")


def _publish(sns: Any, topic: str, messages: int) -> tuple[dict[str, float], float]:
    """Publish the alarms from PUBLISHERS threads; {alarm name: time just before its publish}."""
    published: dict[str, float] = {}

    def publish(number: int) -> None:
        name, subject, message = alarm_message(number, time.time())
        published[name] = time.time()
        sns.publish(TopicArn=topic, Subject=subject, Message=message)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=PUBLISHERS) as pool:
        list(pool.map(publish, range(messages)))
    return published, time.perf_counter() - started


def _latencies(published: dict[str, float], received: Sequence[Any]) -> tuple[list[float], int]:
    """Seconds from publish to receipt of each alarm's first webhook request; duplicates."""
    first: dict[str, float] = {}
    duplicates = 0
    for request in received:
        found = NAME.search(request.body.decode("utf-8", errors="replace"))
        if not found:
            continue
        name = found.group(0)
        if name in first:
            duplicates += 1
        first[name] = min(first.get(name, request.received_at), request.received_at)
    return [first[name] - published[name] for name in first if name in published], duplicates


# ------------------------------------------------------------------------------ a worker
def worker(request_file: Path) -> int:
    """One warm execution environment and its share of the event source mapping's polling."""
    from localcloud.lambda_events import batch_outcome, sqs_record

    request = json.loads(request_file.read_text(encoding="utf-8"))
    scratch, number = Path(request["scratch"]), request["number"]
    started = time.perf_counter()
    import boto3

    from bench.invoke import BenchContext, load_handler

    handler = load_handler("notifier")
    import_s = time.perf_counter() - started
    sqs = boto3.client("sqs")
    queue_arn = _queue_arn(sqs, request["queue"])
    stats: dict[str, Any] = {"batch_sizes": [], "handler_s": [], "failed_items": 0, "errors": []}
    (scratch / f"ready-{number}.json").write_text(json.dumps({"import_s": import_s}))
    stop = scratch / "stop"
    while True:
        messages = _receive_batch(sqs, request)
        if not messages:
            if stop.exists():
                break
            continue
        event = {"Records": [sqs_record(m, queue_arn, REGION) for m in messages]}
        began = time.perf_counter()
        error = False
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools' log and EMF lines
            try:
                payload = handler.lambda_handler(event, BenchContext(60))
            except Exception as exc:  # a crashed invocation fails its batch, as in Lambda
                payload, error = None, True
                stats["errors"].append(f"{type(exc).__name__}: {exc}")
        stats["handler_s"].append(time.perf_counter() - began)
        stats["batch_sizes"].append(len(messages))
        ids = [m["MessageId"] for m in messages]
        outcome = batch_outcome(
            ids,
            payload,
            function_error=error,
            reports_item_failures=request["reports_item_failures"],
        )
        stats["failed_items"] += len(outcome.failed)
        handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
        succeeded = list(outcome.succeeded)
        for start in range(0, len(succeeded), 10):
            sqs.delete_message_batch(
                QueueUrl=request["queue"],
                Entries=[
                    {"Id": str(n), "ReceiptHandle": handles[i]}
                    for n, i in enumerate(succeeded[start : start + 10])
                ],
            )
    (scratch / f"worker-{number}.json").write_text(json.dumps(stats), encoding="utf-8")
    return 0


def _receive_batch(sqs: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Up to the batch size, as the event source mapping gathers it: at once when the queue
    holds enough, else until the batching window since the first message has passed."""
    batch: list[dict[str, Any]] = []
    opened: float | None = None
    while len(batch) < request["batch_size"]:
        if opened is not None and time.monotonic() - opened >= request["batching_window_s"]:
            break
        received = sqs.receive_message(
            QueueUrl=request["queue"],
            MaxNumberOfMessages=min(10, request["batch_size"] - len(batch)),
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if received:
            batch.extend(received)
            opened = opened if opened is not None else time.monotonic()
        elif opened is None:
            break  # nothing at all: the caller checks whether to stop, then polls again
    return batch


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    options = parser.parse_args(arguments)
    if options.worker:
        return worker(options.worker)
    os.environ.update(AWS_ENVIRONMENT)
    with BenchCloud.start() as cloud:
        results = measure(
            cloud, messages=options.messages, progress=lambda line: print(line, file=sys.stderr)
        )
    emit_results(results, options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
