"""Two Nightshift stacks in one local cloud never share a name: a stack given no Environment
gets its own when the default is taken, and a taken Environment given on purpose is refused."""

from __future__ import annotations

import pytest

from localcloud import Endpoint, Project, Stack, ensure_stack
from localcloud.errors import LocalCloudError
from localcloud.stack import remove_stack

pytestmark = pytest.mark.integration


def test_a_second_stack_without_environment_gets_names_of_its_own(
    stack: Stack, moto_endpoint: Endpoint, project: Project
) -> None:
    second = ensure_stack(moto_endpoint, project, "nightshift-second")
    try:
        first_topic, second_topic = (s.outputs["OpsTopicArn"] for s in (stack, second))
        environments = {
            p["ParameterKey"]: p["ParameterValue"]
            for p in moto_endpoint.client("cloudformation").describe_stacks(
                StackName="nightshift-second"
            )["Stacks"][0]["Parameters"]
        }

        assert environments["Environment"] == "second"
        assert second_topic.endswith(":nightshift-ops-second")
        assert first_topic != second_topic
    finally:
        remove_stack(moto_endpoint, "nightshift-second")
    assert stack.endpoint.client("sns").get_topic_attributes(TopicArn=first_topic)


def test_a_taken_environment_given_on_purpose_is_refused(
    stack: Stack, moto_endpoint: Endpoint, project: Project
) -> None:
    taken = stack.template["Parameters"]["Environment"]["Default"]

    with pytest.raises(LocalCloudError, match=f"Environment={taken} is already used by stack"):
        ensure_stack(moto_endpoint, project, "nightshift-third", {"Environment": taken})
