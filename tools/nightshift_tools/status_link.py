"""status-link: print a signed, read-only link to an environment's status page (docs/actions.md).

    scripts/status-link --function <ActionsFunction's name> [--hours 24] [--url URL]

It reads the function's configuration (its environment name and the name of its signing key),
its function URL and the signing key, with the credentials and region of the environment
(AWS_PROFILE, AWS_REGION), or the local cloud when AWS_ENDPOINT_URL is set. Whoever holds the
link can read the page, and nothing else, until it expires (at most 7 days). `--url` replaces
the function URL (the local cloud serves it elsewhere). Changes nothing. Exit status: 0, or 2
when AWS cannot be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from urllib.parse import urlencode

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from nightshift.actions.token import ActionKind, new_token, sign

MAX_HOURS = 7 * 24
LOCAL_CLOUD_REGION = "eu-central-1"  # the local cloud's (localcloud.cli)
LOCAL_CLOUD_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _region() -> str | None:
    """The environment's region; against the local cloud, its region and fake credentials."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if os.environ.get("AWS_ENDPOINT_URL"):
        if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
            os.environ.update(LOCAL_CLOUD_CREDENTIALS)
        return region or LOCAL_CLOUD_REGION
    return region or boto3.session.Session().region_name


def _hours(text: str) -> float:
    hours = float(text)
    if not 0 < hours <= MAX_HOURS:
        raise argparse.ArgumentTypeError(f"between 0 and {MAX_HOURS} hours")
    return hours


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="status-link", description=__doc__.splitlines()[0])
    parser.add_argument("--function", required=True, help="the ActionsFunction's name")
    parser.add_argument("--hours", type=_hours, default=24.0, help="how long the link works")
    parser.add_argument("--url", help="the function URL to link to (default: the function's)")
    options = parser.parse_args(argv)
    region = _region()
    if not region:
        print(
            "status-link: no AWS region: set AWS_REGION (or use a profile with one)",
            file=sys.stderr,
        )
        return 2
    try:
        lambdas = boto3.client("lambda", region_name=region)
        variables = lambdas.get_function_configuration(FunctionName=options.function)[
            "Environment"
        ]["Variables"]
        url = (
            options.url
            or lambdas.get_function_url_config(FunctionName=options.function)["FunctionUrl"]
        )
        secret = boto3.client("secretsmanager", region_name=region).get_secret_value(
            SecretId=variables["NIGHTSHIFT_ACTIONS_SIGNING_KEY_SECRET"]
        )
    except (BotoCoreError, ClientError, KeyError) as exc:
        print(f"status-link: {exc}", file=sys.stderr)
        return 2
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=options.hours)
    token = new_token(ActionKind.STATUS, variables["NIGHTSHIFT_ENVIRONMENT"], expires)
    link = sign(token, str(secret["SecretString"]).encode())
    print(f"{url.rstrip('/')}/status?{urlencode({'token': link})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
