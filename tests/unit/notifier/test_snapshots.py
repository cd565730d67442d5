"""Every fixture, parsed and rendered for every destination, pinned as a snapshot.

Regenerate after an intended change with NIGHTSHIFT_UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest

from nightshift.notify.model import Notification
from nightshift.notify.render import email, slack, teams

from .fixtures import fixture_names, notification
from .snapshot import SNAPSHOT_DIR, assert_matches_snapshot, updating


def as_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def parsed_view(n: Notification) -> str:
    return as_json(dataclasses.asdict(n) | {"raw": f"<{len(n.raw)} characters>"})


def email_view(n: Notification) -> str:
    message = email.render(n)
    return f"Subject: {message.subject}\n\n{message.text}\n"


VIEWS: dict[str, Callable[[Notification], str]] = {
    "notification.json": parsed_view,
    "slack.json": lambda n: as_json(slack.render(n)),
    "teams.json": lambda n: as_json(teams.render(n)),
    "email.txt": email_view,
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", fixture_names())
def test_fixture_rendering_matches_its_snapshot(name: str, view: str) -> None:
    assert_matches_snapshot(f"{name}.{view}", VIEWS[view](notification(name)))


def test_every_snapshot_belongs_to_a_fixture_and_a_view() -> None:
    if updating():
        pytest.skip("snapshots are being rewritten")
    expected = {f"{name}.{view}" for name in fixture_names() for view in VIEWS}

    present = {path.name for path in SNAPSHOT_DIR.iterdir()}

    assert present - expected == set(), "stale snapshots: delete them"
