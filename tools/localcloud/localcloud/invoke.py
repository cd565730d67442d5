"""`scripts/invoke <LogicalId> <event.json>`: the Docker-free twin of `sam local invoke`.

Runs one built function in the local cloud against the moto server named by AWS_ENDPOINT_URL
(deploying the stack there first if it is missing or the build changed) and prints the
function's JSON result on stdout; logs, progress and what the webhook receiver got go to stderr.
Exit status: 0 success, 1 the function failed, 2 the local cloud could not run it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from localcloud.errors import LocalCloudError
from localcloud.project import Project
from localcloud.receiver import WebhookReceiver
from localcloud.runtime import invoke
from localcloud.server import DEFAULT_REGION, Endpoint, MotoServer, answers
from localcloud.stack import DEFAULT_STACK_NAME, ensure_stack
from localcloud.webhooks import deployed_policies, seed_webhook_secrets
from nightshift.errors import NightshiftError

EXIT_FUNCTION_ERROR = 1
EXIT_HARNESS_ERROR = 2


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/invoke",
        description="Run one built function in the Docker-free local cloud (moto + Lambda RIE).",
    )
    parser.add_argument("logical_id", help="the function's logical id, e.g. NotifierFunction")
    parser.add_argument("event", help="the event JSON file (- for stdin)")
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    parser.add_argument(
        "--build-dir",
        type=Path,
        help="the folder holding the built template.yaml (default: .aws-sam/build)",
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, as for sam deploy",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="override a variable"
    )
    parser.add_argument(
        "--no-receiver",
        action="store_true",
        help="leave the webhook secrets as they are (default: point them at a receiver "
        "started for this call and show what it got)",
    )
    return parser.parse_args(argv)


def _pairs(items: Sequence[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise LocalCloudError(f"{what} must be KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


def _check_parameters(project: Project, parameters: Mapping[str, str]) -> None:
    """Refuse, before anything is deployed, a parameter the template does not declare or a
    PolicyFile that is not in policy/ (the layer holds only those files)."""
    template = yaml_parse(project.require_build().read_text(encoding="utf-8"))
    declared = sorted(template.get("Parameters", {}))
    for key in parameters:
        if key not in declared:
            raise LocalCloudError(
                f"--parameter-overrides: unknown parameter {key!r}; the template's: "
                + ", ".join(declared)
            )
    policy_file = parameters.get("PolicyFile")
    if policy_file is not None and not (project.root / "policy" / policy_file).is_file():
        present = ", ".join(sorted(p.name for p in (project.root / "policy").glob("*.y*ml")))
        raise LocalCloudError(
            f"--parameter-overrides: PolicyFile={policy_file}: no such file in policy/ "
            f"(there: {present})"
        )


def _read_event(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise LocalCloudError(f"cannot read the event {source}: {exc}") from exc


@contextlib.contextmanager
def _endpoint(environ: Mapping[str, str]) -> Iterator[Endpoint]:
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    named = environ.get("AWS_ENDPOINT_URL")
    if named:
        if not answers(named):
            raise LocalCloudError(
                f"AWS_ENDPOINT_URL={named} does not answer: start it with "
                f"`.venv/bin/moto_server -H 127.0.0.1 -p <port>` or unset AWS_ENDPOINT_URL"
            )
        yield Endpoint(named, region)
        return
    with MotoServer(region=region) as endpoint:
        _say(
            f"AWS_ENDPOINT_URL is not set: started a throwaway moto server at {endpoint.url} "
            "for this call (run your own and export AWS_ENDPOINT_URL to keep state)"
        )
        yield endpoint


def _say(message: str) -> None:
    print(f"localcloud: {message}", file=sys.stderr)


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    arguments = _arguments(argv)
    event = _read_event(arguments.event)
    parameters = _pairs(arguments.parameter_overrides, "--parameter-overrides")
    overrides = _pairs(arguments.env, "--env")
    project = Project.at()
    if arguments.build_dir:
        project = project.with_build_dir(arguments.build_dir.resolve())
    _check_parameters(project, parameters)
    with _endpoint(environ) as endpoint, contextlib.ExitStack() as cleanup:
        stack = ensure_stack(endpoint, project, arguments.stack_name, parameters)
        stack.function_name(arguments.logical_id)  # an unknown id fails before any setup
        receiver = None
        if not arguments.no_receiver:
            policies = deployed_policies(stack, [arguments.logical_id])
            if policies:
                receiver = cleanup.enter_context(WebhookReceiver())
                for secret, url in seed_webhook_secrets(stack, receiver.url, policies).items():
                    _say(f"secret {secret} -> {url}")
        result = invoke(stack, arguments.logical_id, event, overrides)
        sys.stderr.write(result.logs)
        if receiver is not None and receiver.requests:
            _say("the webhook receiver got:\n" + receiver.render())
        _say(f"{arguments.logical_id} ran in {result.duration_ms:.0f} ms")
        print(json.dumps(result.payload, indent=2))
        if result.error:
            _say(f"the function failed: {result.error_type}: {result.error_message}")
            return EXIT_FUNCTION_ERROR
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="localcloud: %(message)s", stream=sys.stderr)
    try:
        return run(sys.argv[1:], os.environ)
    except (LocalCloudError, NightshiftError) as exc:
        # A harness that cannot run the function (a bad parameter, an unreadable policy): one
        # line, not a traceback.
        _say(str(exc))
        return EXIT_HARNESS_ERROR


if __name__ == "__main__":
    sys.exit(main())
