"""Point the policy's chat destinations at a local webhook receiver.

The notifier reads each Slack/Teams webhook URL from the Secrets Manager secret the policy names
(`notify.destinations.<name>.secret`). Here those secrets are created (or updated) in moto with
the receiver's URL, one path per destination (`<receiver>/<destination>`), so the receiver's
record shows which destination a message went to. The policy read is the one the functions
run: the SSM parameter version their NIGHTSHIFT_POLICY_PARAMETER names (template parameter
PolicySource), else the file their NIGHTSHIFT_POLICY_FILE names, inside the emulated /opt.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from botocore.exceptions import ClientError

from localcloud.artifacts import function_package
from localcloud.stack import Stack
from nightshift.policy import Policy, PolicyParameter, load_policy, load_policy_parameter

POLICY_FILE_VARIABLE = "NIGHTSHIFT_POLICY_FILE"
POLICY_PARAMETER_VARIABLE = "NIGHTSHIFT_POLICY_PARAMETER"
WEBHOOK_TYPES = frozenset({"slack", "teams"})


def webhook_secrets(policy: Policy) -> dict[str, str]:
    """Destination name -> name of the secret holding its webhook URL.

    >>> from nightshift.policy import parse_policy
    >>> webhook_secrets(parse_policy('''
    ... version: 1
    ... notify:
    ...   destinations: {oncall: {type: slack, secret: nightshift/slack-oncall}}
    ...   routes: [{to: [oncall]}]
    ... '''))
    {'oncall': 'nightshift/slack-oncall'}
    """
    destinations = (policy.section("notify") or {}).get("destinations", {})
    return {
        name: spec["secret"]
        for name, spec in destinations.items()
        if spec["type"] in WEBHOOK_TYPES and "secret" in spec
    }


def deployed_policy_files(stack: Stack, functions: Iterable[str] | None = None) -> list[Path]:
    """The policy files the functions of `stack` are configured to read, on local disk."""
    client = stack.endpoint.client("lambda")
    found: dict[Path, None] = {}
    for logical_id in functions or stack.function_logical_ids():
        configuration = client.get_function_configuration(
            FunctionName=stack.function_name(logical_id)
        )
        value = configuration.get("Environment", {}).get("Variables", {}).get(POLICY_FILE_VARIABLE)
        if value:
            found[Path(function_package(stack, logical_id).local_path(value))] = None
    return list(found)


def deployed_policies(stack: Stack, functions: Iterable[str] | None = None) -> list[Policy]:
    """The policies the functions of `stack` run: their SSM parameter version where one is set
    (read from the local cloud's SSM), else their layer file."""
    client = stack.endpoint.client("lambda")
    ssm = stack.endpoint.client("ssm")
    found: dict[str, Policy] = {}
    for logical_id in functions or stack.function_logical_ids():
        configuration = client.get_function_configuration(
            FunctionName=stack.function_name(logical_id)
        )
        variables = configuration.get("Environment", {}).get("Variables", {})
        if variables.get(POLICY_PARAMETER_VARIABLE):
            parameter = PolicyParameter.parse(variables[POLICY_PARAMETER_VARIABLE])
            if parameter.source not in found:
                found[parameter.source] = load_policy_parameter(
                    parameter,
                    lambda name: ssm.get_parameter(Name=name)["Parameter"]["Value"],
                )
        elif variables.get(POLICY_FILE_VARIABLE):
            path = function_package(stack, logical_id).local_path(variables[POLICY_FILE_VARIABLE])
            found.setdefault(str(path), load_policy(path))
    return list(found.values())


def seed_webhook_secrets(
    stack: Stack,
    receiver_url: str,
    policies: Iterable[Policy] | None = None,
) -> dict[str, str]:
    """Create or update every webhook secret of the policies (default: those the stack's
    functions run) with `<receiver_url>/<destination>`.

    Returns secret name -> the URL it now holds.
    """
    chosen = list(policies) if policies is not None else deployed_policies(stack)
    secrets = stack.endpoint.client("secretsmanager")
    seeded: dict[str, str] = {}
    for policy in chosen:
        for destination, secret in webhook_secrets(policy).items():
            url = f"{receiver_url.rstrip('/')}/{destination}"
            try:
                secrets.create_secret(Name=secret, SecretString=url)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceExistsException":
                    raise
                secrets.put_secret_value(SecretId=secret, SecretString=url)
            seeded[secret] = url
    return seeded
