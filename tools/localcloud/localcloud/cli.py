"""What a read-only command (`scripts/plan-schedule`, `scripts/plan-prune`) needs before its
first AWS call: a region and, against the local cloud, credentials.

- `AWS_REGION` is honoured as documented (botocore itself reads only `AWS_DEFAULT_REGION`).
- With `AWS_ENDPOINT_URL` (the local cloud), a missing region is the local cloud's own and
  missing credentials are its fake ones: moto accepts any, and a developer's real credentials
  or profile are never needed.
- Against AWS without a region, one line says how to give one, instead of botocore's traceback.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import boto3

from localcloud.errors import LocalCloudError
from localcloud.server import DEFAULT_REGION, FAKE_CREDENTIALS

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI")


class MissingRegionError(LocalCloudError):
    """No region anywhere boto3 looks, and no local cloud to default to."""


def prepare_aws_environment(environ: MutableMapping[str, str]) -> str:
    """Fill in what the command needs in `environ` (normally `os.environ`) and return the region.

    >>> env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
    >>> prepare_aws_environment(env), env["AWS_ACCESS_KEY_ID"]
    ('eu-central-1', 'testing')
    >>> prepare_aws_environment({"AWS_REGION": "us-west-2"})
    'us-west-2'
    """
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if environ.get("AWS_ENDPOINT_URL"):
        region = region or DEFAULT_REGION
        if not any(environ.get(name) for name in CREDENTIAL_VARIABLES):
            environ.update(FAKE_CREDENTIALS)
    region = region or boto3.session.Session().region_name
    if not region:
        raise MissingRegionError(
            "no AWS region: set AWS_REGION (or use a profile with a region), or AWS_ENDPOINT_URL "
            "for the local cloud"
        )
    environ["AWS_REGION"] = environ["AWS_DEFAULT_REGION"] = region
    return region
