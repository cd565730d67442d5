"""Fixtures of the integration tier: the built stack, deployed once per session into a moto
server of its own, with its chat destinations pointing at a local webhook receiver.

    @pytest.mark.integration
    def test_something(stack, router, receiver): ...

`router` retries a failed SQS message at once (`retry_now`), so one drain runs until each
message succeeded or reached its dead-letter queue. See docs/local-cloud.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcloud import (
    Endpoint,
    MotoServer,
    Project,
    Router,
    Stack,
    WebhookReceiver,
    ensure_stack,
    seed_webhook_secrets,
)

BUILD_MISSING = (
    "no `sam build` output ({path}): run `make build` first (`make test-integration` does)"
)


@pytest.fixture(scope="session")
def project() -> Project:
    return Project.at()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A moto server of this session's own, on a free loopback port (its log in a tmp dir)."""
    log_file = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with MotoServer(log_file=log_file) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(webhook_receiver: WebhookReceiver) -> Iterator[WebhookReceiver]:
    """The session's webhook receiver, with no recorded requests and answering 200 `ok`."""
    webhook_receiver.reset()
    yield webhook_receiver
    webhook_receiver.reset()


@pytest.fixture(scope="session")
def stack(moto_endpoint: Endpoint, project: Project, webhook_receiver: WebhookReceiver) -> Stack:
    """The built template deployed in moto; the policy's webhook secrets hold receiver URLs."""
    if not project.built_template.is_file():
        pytest.skip(BUILD_MISSING.format(path=project.built_template))
    deployed = ensure_stack(moto_endpoint, project)
    seed_webhook_secrets(deployed, webhook_receiver.url)
    return deployed


@pytest.fixture(scope="session")
def router(stack: Stack) -> Router:
    return Router(stack, retry_now=True)
