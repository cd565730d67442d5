"""The server's floors for the pruner comparison: the same deletions, or the same listing, sent by
the least a client can be, so that each tool's time can be read against what the bench's single
moto process can answer at all.

    python -m bench.delete_floor REQUEST.json RESULT.json

The child process of `bench.tools.run_floor`. The request holds the EBS snapshot ids and RDS
snapshot identifiers the rule deletes (the bench cloud names them; listing is not part of the
floor) and the number of threads. Plain boto3: one EC2 and one RDS client shared by `threads`
threads, botocore's defaults (its pool holds at least as many connections as there are threads),
one DeleteSnapshot or DeleteDBSnapshot per snapshot, no pacing, no report, nothing kept.
With `"list": true` the client first lists what the pruner lists to decide (`LISTINGS`: the
same Describe calls and pages, one after another, the answers dropped) and times that apart.

The result: seconds for the listing (`list_s`, 0 without one) and for the deletions
(`delete_s`), the process's CPU seconds for the deletions, and the error codes AWS answered, if
any.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# What the pruner lists before it decides (nightshift.adapters.snapshots): service, paginated
# operation, arguments, page size. DescribeLockedSnapshots has no paginator and is called once.
EC2_MINE = {"Owners": ["self"], "IncludeDisabled": True, "IncludeDeprecated": True}
BACKUP = {"SnapshotType": "awsbackup"}
LISTINGS: tuple[tuple[str, str, dict[str, Any], int], ...] = (
    ("ec2", "describe_images", EC2_MINE, 1000),
    ("ec2", "describe_snapshots", {"OwnerIds": ["self"]}, 1000),
    ("rds", "describe_db_snapshots", {}, 100),
    ("rds", "describe_db_snapshots", BACKUP, 100),
    ("rds", "describe_db_cluster_snapshots", {}, 100),
    ("rds", "describe_db_cluster_snapshots", BACKUP, 100),
)


def list_all() -> tuple[int, float]:
    """Every page of `LISTINGS` and the snapshot locks: the calls made and their seconds (the
    clients are made before the clock starts)."""
    import boto3
    from botocore.exceptions import ClientError
    from botocore.parsers import ResponseParserError

    clients = {name: boto3.client(name) for name in ("ec2", "rds")}
    calls, started = 1, time.perf_counter()
    # The pruner reads locks when the endpoint offers them (moto does not).
    with contextlib.suppress(ClientError, ResponseParserError):
        clients["ec2"].describe_locked_snapshots(MaxResults=1000)
    for service, operation, arguments, page in LISTINGS:
        paginator = clients[service].get_paginator(operation)
        for _ in paginator.paginate(**arguments, PaginationConfig={"PageSize": page}):
            calls += 1
    return calls, time.perf_counter() - started


def delete_all(ebs: list[str], rds: list[str], threads: int) -> dict[str, Any]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    config = Config(max_pool_connections=max(10, threads))
    ec2 = boto3.client("ec2", config=config)
    rds_client = boto3.client("rds", config=config)
    errors: Counter[str] = Counter()

    def delete(job: tuple[str, str]) -> None:
        kind, name = job
        try:
            if kind == "ebs":
                ec2.delete_snapshot(SnapshotId=name)
            else:
                rds_client.delete_db_snapshot(DBSnapshotIdentifier=name)
        except ClientError as exc:
            errors[exc.response.get("Error", {}).get("Code", "Unknown")] += 1

    jobs = [("ebs", name) for name in ebs] + [("rds", name) for name in rds]
    cpu, started = os.times(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(delete, jobs))
    elapsed, spent = time.perf_counter() - started, os.times()
    return {
        "delete_s": elapsed,
        "cpu_s": (spent.user - cpu.user) + (spent.system - cpu.system),
        "deletions": len(jobs),
        "threads": threads,
        "error_codes": dict(errors),
    }


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    listed, list_s = list_all() if request.get("list") else (0, 0.0)
    result = delete_all(request["ebs"], request["rds"], int(request["threads"]))
    result.update(list_s=list_s, list_calls=listed)
    Path(sys.argv[2]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
