from __future__ import annotations

import pytest

from nightshift.errors import ConfigurationError
from nightshift.settings import CommonSettings, flag, required

ENV = {
    "NIGHTSHIFT_ENVIRONMENT": "staging",
    "NIGHTSHIFT_POLICY_FILE": "/opt/nightshift.yaml",
    "NIGHTSHIFT_STATE_TABLE": "state",
    "NIGHTSHIFT_OPS_TOPIC_ARN": "arn:aws:sns:eu-central-1:111122223333:nightshift-ops",
}


def test_settings_are_read_from_the_environment() -> None:
    settings = CommonSettings.from_environ(ENV)

    assert settings.policy_file == "/opt/nightshift.yaml"


def test_missing_variable_is_named_in_the_error() -> None:
    env = {k: v for k, v in ENV.items() if k != "NIGHTSHIFT_STATE_TABLE"}

    with pytest.raises(ConfigurationError, match="NIGHTSHIFT_STATE_TABLE"):
        CommonSettings.from_environ(env)


def test_empty_variable_counts_as_missing() -> None:
    with pytest.raises(ConfigurationError, match="X is not set"):
        required("X", {"X": ""})


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("FALSE", False)])
def test_flag_accepts_true_and_false(value: str, expected: bool) -> None:
    assert flag("DRY_RUN", {"DRY_RUN": value}) is expected


def test_flag_refuses_anything_else() -> None:
    with pytest.raises(ConfigurationError, match="must be true or false"):
        flag("DRY_RUN", {"DRY_RUN": "yes"})
