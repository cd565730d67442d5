"""Typed checks from the policy's `canaries` section: every mistake is a PolicyError at load."""

from __future__ import annotations

import textwrap

import pytest

from nightshift.canary import Check, ConditionError, Header, from_section
from nightshift.canary.checks import DEFAULT_TIMEOUT_MS
from nightshift.errors import PolicyError
from nightshift.policy import parse_policy

POLICY = textwrap.dedent(
    """
    version: 1
    canaries:
      - name: api
        url: https://api.example.com/health?deep=1
        timeout_ms: 2000
        headers:
          Accept: application/json
          Authorization: {secret: nightshift/canary-api-token}
        ca_bundle: certs/internal-ca.pem
        conditions:
          - "[STATUS] == 200"
          - "[RESPONSE_TIME] < 800"
          - "[BODY].status == healthy"
          - "[CERTIFICATE_EXPIRATION] > 14d"
      - name: admin
        url: http://admin.internal:8080
        method: HEAD
        conditions: ["[STATUS] < 500"]
    """
)


def canaries(text: str) -> tuple[Check, ...]:
    policy = parse_policy(text, "policy/staging.yaml")
    return from_section(policy.section("canaries"), source=policy.source, base_dir="/opt")


def test_policy_canaries_become_typed_checks_with_parsed_conditions():
    api, admin = canaries(POLICY)
    assert api.name == "api"
    assert (api.https, api.host, api.port, api.target) == (
        True,
        "api.example.com",
        443,
        "/health?deep=1",
    )
    assert api.timeout_ms == 2000
    assert api.headers == (
        Header("Accept", value="application/json"),
        Header("Authorization", secret="nightshift/canary-api-token"),
    )
    assert api.ca_bundle == "/opt/certs/internal-ca.pem"
    assert [c.text for c in api.conditions] == [
        "[STATUS] == 200",
        "[RESPONSE_TIME] < 800",
        "[BODY].status == healthy",
        "[CERTIFICATE_EXPIRATION] > 14d",
    ]
    assert [c.concerns_certificate for c in api.conditions] == [False, False, False, True]
    assert (admin.method, admin.port, admin.target, admin.https) == ("HEAD", 8080, "/", False)
    assert admin.timeout_ms == DEFAULT_TIMEOUT_MS
    assert admin.ca_bundle is None


def test_absolute_ca_bundle_is_kept_as_written():
    (check,) = from_section(
        [
            {
                "name": "api",
                "url": "https://x",
                "ca_bundle": "/etc/ssl/ca.pem",
                "conditions": ["[STATUS] == 200"],
            }
        ],
        base_dir="/opt",
    )
    assert check.ca_bundle == "/etc/ssl/ca.pem"


def test_no_canaries_section_gives_no_checks():
    assert from_section(None) == ()


def test_unparsable_condition_names_file_check_field_and_position():
    text = POLICY.replace('"[RESPONSE_TIME] < 800"', '"[RESPONSE_TIME] =< 800"')
    with pytest.raises(ConditionError) as caught:
        canaries(text)
    error = caught.value
    assert error.source == "policy/staging.yaml"
    assert error.path == "canaries[0].conditions[1]"
    assert (error.check, error.position) == ("api", 16)
    assert str(error).startswith(
        "policy/staging.yaml: canaries[0].conditions[1]: check 'api': "
        "cannot parse '[RESPONSE_TIME] =< 800' at position 16"
    )


@pytest.mark.parametrize(
    ("entry", "path", "problem"),
    [
        (
            {
                "name": "api",
                "url": "http://app/health",
                "conditions": ["[CERTIFICATE_EXPIRATION] > 14d"],
            },
            "canaries[0].conditions[0]",
            "[CERTIFICATE_EXPIRATION] needs an https:// URL",
        ),
        (
            {"name": "api", "url": "http:///health", "conditions": ["[STATUS] == 200"]},
            "canaries[0].url",
            "with a host",
        ),
        (
            {"name": "api", "url": "http://app:99999/", "conditions": ["[STATUS] == 200"]},
            "canaries[0].url",
            "invalid port",
        ),
        (
            {
                "name": "api",
                "url": f"http://{'a' * 70}.example/",
                "conditions": ["[STATUS] == 200"],
            },
            "canaries[0].url",
            "invalid host name",
        ),
        (
            {"name": "api", "url": "https://user:pw@app/", "conditions": ["[STATUS] == 200"]},
            "canaries[0].url",
            "credentials",
        ),
        (
            {
                "name": "api",
                "url": "http://app/",
                "headers": {"X Bad": "1"},
                "conditions": ["[STATUS] == 200"],
            },
            "canaries[0].headers.X Bad",
            "not a valid HTTP header name",
        ),
        (
            {
                "name": "api",
                "url": "http://app/",
                "headers": {"X-Inject": "a\r\nEvil: 1"},
                "conditions": ["[STATUS] == 200"],
            },
            "canaries[0].headers.X-Inject",
            "line breaks",
        ),
    ],
)
def test_check_that_cannot_be_probed_as_written_is_a_policy_error(entry, path, problem):
    with pytest.raises(PolicyError) as caught:
        from_section([entry], source="p.yaml")
    assert caught.value.path == path
    assert problem in caught.value.problem


def test_duplicate_check_name_is_refused_because_metrics_would_collide():
    entry = {"name": "api", "url": "http://app/", "conditions": ["[STATUS] == 200"]}
    with pytest.raises(PolicyError) as caught:
        from_section([entry, entry], source="p.yaml")
    assert caught.value.path == "canaries[1].name"
    assert "also canaries[0]" in caught.value.problem


@pytest.mark.parametrize(
    ("snippet", "path"),
    [
        (
            "      - {name: API, url: 'http://a', conditions: ['[STATUS] == 200']}",
            "canaries[0].name",
        ),
        ("      - {name: api, url: 'ftp://a', conditions: ['[STATUS] == 200']}", "canaries[0].url"),
        ("      - {name: api, url: 'http://a', conditions: []}", "canaries[0].conditions"),
        (
            "      - {name: api, url: 'http://a', conditions: ['[STATUS] == 200'], timeout_ms: 50}",
            "canaries[0].timeout_ms",
        ),
        (
            "      - {name: api, url: 'http://a', conditions: ['[STATUS] == 200'], timeout_ms: 30000}",
            "canaries[0].timeout_ms",
        ),
        (
            "      - {name: api, url: 'http://a', conditions: ['[STATUS] == 200'], retries: 3}",
            "canaries[0]",
        ),
    ],
)
def test_schema_refuses_malformed_canary_entries(snippet, path):
    with pytest.raises(PolicyError) as caught:
        parse_policy(f"version: 1\ncanaries:\n{snippet}\n", "p.yaml")
    assert caught.value.path == path


def test_schema_lists_valid_fields_for_an_unknown_one():
    text = "version: 1\ncanaries:\n  - {name: a, url: 'http://a', conditions: ['[STATUS] == 200'], x: 1}\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    assert "ca_bundle" in caught.value.problem
    assert "timeout_ms" in caught.value.problem


def test_build_parses_conditions_for_code_and_tests():
    check = Check.build("api", "https://app:8443/h", ["[STATUS] == 200"], timeout_ms=300)
    assert (check.port, check.timeout_ms, check.conditions[0].operator) == (8443, 300, "==")


def test_more_checks_than_one_wave_of_probe_threads_is_refused():
    entries = "".join(
        f"  - {{name: c{n}, url: 'http://a', conditions: ['[STATUS] == 200']}}\n" for n in range(33)
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(f"version: 1\ncanaries:\n{entries}", "p.yaml")
    assert caught.value.path == "canaries"
