"""The moto server that plays AWS: start one on a free loopback port, or reuse a running one."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from localcloud.errors import ServerError

logger = logging.getLogger(__name__)

DEFAULT_REGION = "eu-central-1"  # the example app's region
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Endpoint:
    """A moto server and the region we talk to it in; hands out boto3 clients bound to it."""

    url: str
    region: str = DEFAULT_REGION

    def client(self, service: str) -> Any:
        return _client(self.url, self.region, service)

    def environ(self) -> dict[str, str]:
        """What a process needs to talk to this server (and only to it) with boto3 or sam."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **FAKE_CREDENTIALS,
        }


@cache
def _client(url: str, region: str, service: str) -> Any:
    # An explicit session, so a developer's ~/.aws profile or real credentials never leak in.
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    )
    config = Config(retries={"max_attempts": 2, "mode": "standard"})
    return session.client(service, endpoint_url=url, config=config)


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether a moto server answers at `url` (its dashboard API lists the moto version)."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/moto-api/", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class MotoServer:
    """A moto server subprocess on a loopback port; a context manager that stops it on exit.

    `organization=True`: moto's server refuses AssumeRole of a `nightshift-spoke-*` role that
    does not exist, as AWS does (localcloud.moto_main), for the hub and spoke local cloud.
    """

    host: str = "127.0.0.1"
    port: int = 0
    region: str = DEFAULT_REGION
    log_file: Path | None = None
    organization: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.url, self.region)

    def start(self) -> Endpoint:
        if self._process is not None:
            return self.endpoint
        if not self.port:
            self.port = free_port(self.host)
        moto_server = Path(sys.executable).with_name("moto_server")
        command = (
            [sys.executable, "-m", "localcloud.moto_main"]
            if self.organization
            else [str(moto_server)]
            if moto_server.exists()
            else [sys.executable, "-m", "moto.server"]
        )
        with contextlib.ExitStack() as files:
            sink = (
                files.enter_context(self.log_file.open("ab"))
                if self.log_file
                else subprocess.DEVNULL
            )
            self._process = subprocess.Popen(
                [*command, "-H", self.host, "-p", str(self.port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                # An account starts with no AMIs of its own; moto's 1,285 public ones would show
                # up in listings it does not filter by owner (the pruner's DescribeImages).
                env={**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"},
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not answers(self.url, timeout=0.5):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"moto server did not start on {self.url}")
            time.sleep(0.05)
        logger.info("moto server started at %s", self.url)
        # moto loads its CloudFormation backend (which imports every service) on first use,
        # which takes seconds; start that now, while the caller fingerprints and packages.
        threading.Thread(target=_warm_up, args=(self.endpoint,), daemon=True).start()
        return self.endpoint

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Endpoint:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _warm_up(endpoint: Endpoint) -> None:
    with contextlib.suppress(Exception):
        endpoint.client("cloudformation").list_stacks()


@contextlib.contextmanager
def local_cloud_endpoint(
    environ: Mapping[str, str], region: str = DEFAULT_REGION
) -> Iterator[Endpoint]:
    """The moto server named by AWS_ENDPOINT_URL if it answers, else a new one for this block.

    >>> with local_cloud_endpoint({}) as endpoint:  # doctest: +SKIP
    ...     endpoint.client("sns").list_topics()
    """
    named = environ.get("AWS_ENDPOINT_URL", "")
    if named and answers(named):
        yield Endpoint(named, region)
        return
    with MotoServer(region=region) as endpoint:
        yield endpoint
