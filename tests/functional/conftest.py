"""Fixtures of the functional tier: local health endpoints for the canary (tests/support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iamjudge.pytest_plugin import JudgedCalls
from tests.support.health_server import (
    Certificate,
    HealthServer,
    openssl_available,
    self_signed_certificate,
)


@pytest.fixture
def health_server() -> Iterator[HealthServer]:
    """A local HTTP health endpoint answering the healthy /health body until told otherwise."""
    with HealthServer() as server:
        yield server


@pytest.fixture(scope="session")
def certificate_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where self-signed test certificates are made; skips when `openssl` is not installed."""
    if not openssl_available():
        pytest.skip("the openssl command-line tool is needed to make test certificates")
    return tmp_path_factory.mktemp("certificates")


@pytest.fixture(scope="session")
def certificate_30_days(certificate_folder: Path) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1 that expires in 30 days."""
    return self_signed_certificate(certificate_folder, days=30)


@pytest.fixture(autouse=True)
def _iam_judged(iam_judge: JudgedCalls) -> JudgedCalls:
    """Every AWS call a handler makes here is judged against its role in template.yaml."""
    return iam_judge
