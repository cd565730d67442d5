"""Loaded by Python at start-up in the local cloud's function processes when the IAM judge is on
(iamjudge.localcloud puts this folder on PYTHONPATH and names a record file in
NIGHTSHIFT_IAM_RECORD). Installs iamjudge.recorder, which needs only botocore, and appends each
recorded request to that file as one JSON line. Not part of any deployed artifact."""

import importlib.util
import json
import os
import sys
import threading
from pathlib import Path


def _install(record_file: str) -> None:
    path = Path(__file__).resolve().parent.parent / "recorder.py"
    spec = importlib.util.spec_from_file_location("nightshift_iam_recorder", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the IAM recorder from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    lock = threading.Lock()
    # Opened once for the process's life, line buffered: each record is on disk as soon as it
    # is written (a warm sandbox records thousands of calls; opening the file for each cost
    # more than writing it).
    sink = open(record_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(record: dict) -> None:
        line = json.dumps(record, default=str) + "\n"
        with lock:
            sink.write(line)

    module.install(write)


if os.environ.get("NIGHTSHIFT_IAM_RECORD"):
    _install(os.environ["NIGHTSHIFT_IAM_RECORD"])
