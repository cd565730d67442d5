"""The server's floor for the pruner comparison: the same deletions, sent by the least a client
can be, so that each tool's time can be read against what the bench's single moto process can
answer at all.

    python -m bench.delete_floor REQUEST.json RESULT.json

The child process of `bench.tools.run_floor`. The request holds the EBS snapshot ids and RDS
snapshot identifiers the rule deletes (the bench cloud names them; listing is not part of the
floor) and the number of threads. Plain boto3: one EC2 and one RDS client shared by `threads`
threads, botocore's defaults (its pool holds at least as many connections as there are threads),
one DeleteSnapshot or DeleteDBSnapshot per snapshot, no pacing, no report, nothing kept.

The result: seconds for the deletions alone (`delete_s`), the process's CPU seconds meanwhile,
and the error codes AWS answered, if any.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


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
    result = delete_all(request["ebs"], request["rds"], int(request["threads"]))
    Path(sys.argv[2]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
