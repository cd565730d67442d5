"""moto's server, with AWS's refusal of AssumeRole on a role that does not exist.

    python -m localcloud.moto_main -H 127.0.0.1 -p 5000

moto hands out credentials for any role ARN (its documentation says so): that is how it keeps
accounts apart, and how a test reaches a member account. AWS refuses AssumeRole on a role that
does not exist with AccessDenied, which is how a hub meets a member account without its spoke
(docs/organization.md). `RefuseMissingSpokeRoles`, a WSGI layer in front of moto's application,
answers AssumeRole of a `nightshift-spoke-*` role that is not in moto's IAM store of its account
as AWS answers it; every other request (and AssumeRole of any other role, which the local cloud's
own set-up uses to reach an account) passes through unchanged. `MotoServer(organization=True)`
runs this module instead of `moto_server`; the layer is in the server's process so that it reads
moto's IAM store directly, as tests/support/organization.py does for the functional tier.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

SPOKE_ROLE = ":role/nightshift-spoke-"
ACCESS_DENIED = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}\
</Message>
  </Error>
  <RequestId>{request_id}</RequestId>
</ErrorResponse>"""

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def role_exists(arn: str) -> bool:
    """Whether moto's IAM store of the role's account holds the role named by `arn`."""
    from moto.iam.models import iam_backends

    account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
    return any(role.name == name for role in iam_backends[account]["aws"].roles.values())


class RefuseMissingSpokeRoles:
    """WSGI: AccessDenied for AssumeRole of a spoke role that does not exist, else moto."""

    def __init__(self, app: WsgiApp, exists: Callable[[str], bool] = role_exists) -> None:
        self._app = app
        self._exists = exists

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if environ.get("REQUEST_METHOD") != "POST" or not length:
            return self._app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        arn = missing_spoke_role(body, self._exists)
        if arn is None:
            return self._app(environ, start_response)
        text = ACCESS_DENIED.format(
            caller="the hub's function role", arn=arn, request_id=uuid.uuid4()
        ).encode()
        start_response(
            "403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(text)))]
        )
        return [text]


def missing_spoke_role(body: bytes, exists: Callable[[str], bool]) -> str | None:
    """The spoke role an STS AssumeRole request body names, if it does not exist.

    >>> body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A4444"
    >>> body += b"44444444%3Arole%2Fnightshift-spoke-scheduler-staging&RoleSessionName=x"
    >>> missing_spoke_role(body, lambda arn: False)
    'arn:aws:iam::444444444444:role/nightshift-spoke-scheduler-staging'
    >>> missing_spoke_role(body, lambda arn: True) is None
    True
    >>> missing_spoke_role(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fadmin",
    ...                    lambda arn: False) is None
    True
    """
    if b"AssumeRole" not in body:
        return None
    try:
        form = parse_qs(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    if form.get("Action") != ["AssumeRole"]:
        return None
    arn = (form.get("RoleArn") or [""])[0]
    if SPOKE_ROLE not in arn or exists(arn):
        return None
    return arn


def main(argv: list[str] | None = None) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(prog="python -m localcloud.moto_main")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    options = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(options.port))  # as moto_server sets it
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        options.host,
        options.port,
        RefuseMissingSpokeRoles(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
