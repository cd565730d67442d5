"""Hypothesis settings and strategies shared by the notifier's property tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from nightshift.notify.model import Fact, Link, Notification, Severity, Source, State

# Fast and never flaky on a loaded CI runner.
NOTIFIER_PROFILE = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

texts = st.text(max_size=300)


def repeated(least: int, most: int) -> st.SearchStrategy[str]:
    """Long text: Hypothesis will not draw thousands of characters one by one."""
    return st.tuples(st.text(min_size=1, max_size=40), st.integers(least, most)).map(
        lambda pair: pair[0] * pair[1]
    )


long_texts = st.one_of(texts, repeated(100, 300))
facts = st.builds(Fact, label=texts, value=long_texts)
links = st.builds(
    Link,
    label=texts,
    url=st.from_regex(r"\Ahttps://[a-z0-9.-]{1,30}/[ -~]{0,200}\Z"),
)
notifications = st.builds(
    Notification,
    source=st.sampled_from(Source),
    severity=st.sampled_from(Severity),
    state=st.sampled_from(State),
    title=long_texts,
    name=texts,
    summary=long_texts,
    facts=st.lists(facts, max_size=80).map(tuple),
    links=st.lists(links, max_size=8).map(tuple),
    dedup_key=texts,
    raw=st.one_of(texts, repeated(1_000, 7_000)),
    occurred_at=st.one_of(st.none(), texts),
    region=st.one_of(st.none(), texts),
    account=st.one_of(st.none(), texts),
)
