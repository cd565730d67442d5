"""What a cold start loads: each handler, imported in a fresh interpreter the way Lambda imports
it, loads none of the modules its first run does not need, and the policy part of that first run
(the policy layer's JSON, validated by the schema the layer's build compiled) loads no YAML parser
and reads no schema file. Timing lives in bench/cold_start.py; this guards the result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nightshift.policy.loader import COMPILED_SCHEMA_MODULE, validator_source
from nightshift_tools.policy_layer import build_layer
from tests.conftest import ROOT

HANDLERS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))

# Module (or package) -> why no handler's import loads it.
NOT_AT_IMPORT = {
    "aws_xray_sdk": "the X-Ray SDK: tracing is off, so no Tracer is built (nightshift.tracing)",
    "yaml": "PyYAML: the deployed policy is JSON (policy/Makefile, scripts/publish-policy)",
    "jsonschema": "the tools' complete policy check, not the functions'",
    "pydantic": "Powertools' parser and its models: not used",
    "nightshift_tools": "the scripts' library",
    "localcloud": "the local cloud",
    "aws_lambda_powertools.utilities.data_classes": "every Powertools event class at once",
    "asyncio": "an event loop: no handler runs one",
    "aws_lambda_powertools.utilities.parameters": (
        "SSM and Secrets Manager providers: imported at the first secret read (adapters.secrets: "
        "a canary check's header, a notifier's webhook) or policy parameter read"
    ),
    "aws_lambda_powertools.utilities.idempotency": "idempotency: redeploy's pushes only",
    "aws_lambda_powertools.utilities.batch": "partial batch responses: the notifier's SQS only",
    "nightshift.pricing": (
        "the scheduler's price table: only a run that starts or stops something prices it "
        "(schedule.service imports schedule.savings in that step); a steady-state run does not"
    ),
    "nightshift.schedule.savings": "pricing a run's starts and stops: as nightshift.pricing",
    "nightshift.schedule.plan": (
        "the scheduler's planner: the canary reads schedules (schedule.model, .timeline) and "
        "plans nothing; nightshift.schedule does not re-export it"
    ),
    "nightshift.schedule.policy": (
        "the scheduler's view of the policy (SchedulerPolicy, SchedulerSettings): the canary "
        "reads the schedules only (schedule.model.schedules_of)"
    ),
    "nightshift.policy.targets": (
        "the policy's targets (Target, Targets): only the functions that act in other accounts "
        "read them (Policy.targets and nightshift.policy import the module when asked)"
    ),
    "nightshift.canary.service": (
        "the canary's run: nightshift.canary imports each module when a name is first asked "
        "for (nightshift.lazy), so a function reading one canary module (redeploy's held "
        "pushes, the status page) does not load the canary's service, settings or report"
    ),
    "nightshift.canary.status": (
        "the canary's last state: redeploy reads it for a held push only (canary_state), the "
        "actions function for the status page only (status_facts)"
    ),
    "nightshift.canary.checks": (
        "the canary's checks and condition language: the status page's, not a link's"
    ),
    "nightshift.redeploy.plan": (
        "the redeploy planner: nightshift.redeploy imports each module when a name is first "
        "asked for; the actions function approves a held redeploy through it only when acting"
    ),
    "nightshift.redeploy.approval": (
        "held redeploys: redeploy imports the model when the policy holds a push (or to sign its "
        "link), the actions function when a held redeploy is approved"
    ),
    "nightshift.redeploy.outcome": (
        "a deployment's outcome: redeploy imports it at the first ECS deployment event (or for a "
        "push some services missed), so a push's cold start does not build its data classes"
    ),
    "nightshift.actions.status": "the status page: imported by the status route only",
    "nightshift.actions.token": (
        "the signed action links: the actions function's and the notifier's buttons; redeploy "
        "signs one for a held push only (redeploy.approval.approve_link)"
    ),
    "nightshift.fanout": (
        "hub and spoke: the scheduler, pruner and redeploy import the fan-out, the spoke "
        "sessions and the target queue at the first run of a policy with targets"
    ),
    "nightshift.adapters.target_sessions": "the spoke roles' sessions: as nightshift.fanout",
    "nightshift.adapters.target_queue": "the scheduler's SQS engine: as nightshift.fanout",
    "nightshift.schedule.queued": "the scheduler's queued targets: as nightshift.fanout",
    "nightshift.adapters.ecs_deploy": (
        "the actions function's ECS adapters: built when an action is carried out (service())"
    ),
    "nightshift.adapters.status_metrics": "the status page's metrics: status_facts() only",
    "nightshift.notify.render.slack": (
        "the notifier's renderers: each imported when a message first goes to a destination of "
        "its type (notify.service), so a notifier loads only its destinations' renderers"
    ),
    "nightshift.notify.render.teams": "as nightshift.notify.render.slack",
    "nightshift.notify.render.email": "as nightshift.notify.render.slack",
}
# What a handler's first run does need, and why it is loaded at import.
NEEDED = {
    "actions": {
        # Every request is answered by Powertools' function URL resolver, whose module loads
        # the event data classes (and with them asyncio).
        "aws_lambda_powertools.utilities.data_classes",
        "asyncio",
        # The signing key and the Slack signing secret through Powertools' SecretsProvider.
        "aws_lambda_powertools.utilities.parameters",
        # Every request carries a signed token.
        "nightshift.actions.token",
    },
    "notifier": {
        # Powertools' BatchProcessor answers every SQS batch; its base module imports asyncio
        # and the record data classes (whose package imports all of them). Every public import
        # of BatchProcessor runs the batch package's __init__: no narrower module avoids them
        # (bench/cold_start.py measures this floor).
        "aws_lambda_powertools.utilities.batch",
        "aws_lambda_powertools.utilities.data_classes",
        "asyncio",
        # A message's buttons are signed action links (notify.actions).
        "nightshift.actions.token",
    },
    # Pushes are planned and deployed through ECS; the policy says whether it has targets.
    "redeploy": {
        "aws_lambda_powertools.utilities.idempotency",
        "nightshift.policy.targets",
        "nightshift.redeploy.plan",
        "nightshift.adapters.ecs_deploy",
    },
    # Every run is the canary's whole core (bench/cold_start.py's floor).
    "canary": {
        "nightshift.canary.service",
        "nightshift.canary.status",
        "nightshift.canary.checks",
    },
    # Every run plans; the policy says whether it has targets.
    "scheduler": {
        "nightshift.schedule.plan",
        "nightshift.schedule.policy",
        "nightshift.policy.targets",
    },
    # The policy says whether it has targets.
    "pruner": {"nightshift.policy.targets"},
}
# Classes the canary's import path defines as plain classes, not data classes: each would be
# built at every cold start (a data class compiles its generated methods when its module is
# imported, most of the canary's own import time), and none is compared, hashed or shown.
PLAIN_CLASSES = {
    "nightshift.canary.service:Canary": "the run's service: holds its ports",
    "nightshift.adapters.http_probe:HttpProber": "the prober port: holds the secret resolver",
    "nightshift.adapters.http_probe:ProbeTiming": "the probe engine's knobs",
    "nightshift.canary.conditions:_Seen": "one evaluation's observed value, private",
    "nightshift.schedule.timeline:_Run": "one run of a schedule's periods, private",
}
FIRST_RUN = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
at_import = sorted(sys.modules)
from nightshift.policy import load_policy, loader
load_policy(sys.argv[3])
print(json.dumps({
    "at_import": at_import,
    "after_policy": sorted(sys.modules),
    "schema_files_read": loader.policy_schema.cache_info().currsize,
    "validator": loader._validator().__module__,
}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The layer's package with the compiled schema its Makefile writes, and the policy layer's
    nightshift.yaml as policy/Makefile ships it (JSON)."""
    scratch = tmp_path_factory.mktemp("built")
    layer = scratch / "layer"
    shutil.copytree(
        ROOT / "layers" / "nightshift" / "nightshift",
        layer / "nightshift",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    compiled = layer / Path(*COMPILED_SCHEMA_MODULE.split(".")).with_suffix(".py")
    compiled.write_text(validator_source(), encoding="utf-8")
    assert build_layer([ROOT / "policy" / "nightshift.yaml"], scratch) == []
    return {"layer": layer, "policy": scratch / "nightshift.yaml"}


def first_run(name: str, built: dict[str, Path]) -> dict[str, Any]:
    environment = {
        **os.environ,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_SERVICE_NAME": name,
    }
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            FIRST_RUN,
            str(ROOT / "functions" / name),
            str(built["layer"]),
            str(built["policy"]),
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(process.stdout.splitlines()[-1])
    return result


def loaded(modules: list[str], wanted: str) -> bool:
    return any(module == wanted or module.startswith(f"{wanted}.") for module in modules)


@pytest.mark.parametrize("name", HANDLERS)
def test_a_handler_imports_nothing_its_first_run_does_not_need(
    name: str, built: dict[str, Path]
) -> None:
    result = first_run(name, built)

    unexpected = {
        module: why
        for module, why in NOT_AT_IMPORT.items()
        if module not in NEEDED.get(name, set()) and loaded(result["at_import"], module)
    }
    assert unexpected == {}
    assert loaded(result["at_import"], "nightshift")  # the import did run the handler


@pytest.mark.parametrize("name", HANDLERS)
def test_the_shipped_policy_loads_without_yaml_or_reading_the_schema(
    name: str, built: dict[str, Path]
) -> None:
    result = first_run(name, built)

    assert not loaded(result["after_policy"], "yaml")
    assert result["schema_files_read"] == 0
    assert result["validator"] == COMPILED_SCHEMA_MODULE


def test_the_shipped_policy_is_json_and_reads_as_its_yaml_source(built: dict[str, Path]) -> None:
    from nightshift.policy import load_policy

    shipped = built["policy"].read_text(encoding="utf-8")

    assert isinstance(json.loads(shipped), dict)
    assert (
        load_policy(built["policy"]).sections
        == load_policy(ROOT / "policy" / "nightshift.yaml").sections
    )


@pytest.mark.parametrize("name", sorted(PLAIN_CLASSES))
def test_the_canarys_services_and_private_values_are_plain_classes(name: str) -> None:
    import dataclasses
    import importlib

    module, _, attribute = name.partition(":")
    cls = getattr(importlib.import_module(module), attribute)

    assert not dataclasses.is_dataclass(cls), PLAIN_CLASSES[name]
    assert "__init__" in vars(cls)


# What the actions function's import does not load: a link (GET /, most actions' first request)
# reads neither the policy nor AWS; acting (service()) and the status page (status_facts()) import
# theirs when a request needs them.
NOT_FOR_A_LINK = {
    "nightshift.policy.loader": "the policy's loader and validator: read when acting",
    "fastjsonschema": "the policy's validator: read when acting",
    "nightshift.schedule.resources": "the scheduler's resources: the status page's",
    "nightshift.adapters.policy_parameter": "the deployed policy: read when acting",
    "nightshift.redeploy": "approving a held redeploy: when acting",
    "nightshift.actions.service": "carrying an action out: service() imports it",
}


def test_the_actions_function_loads_for_a_link_only_what_a_link_needs(
    built: dict[str, Path],
) -> None:
    result = first_run("actions", built)

    assert {m: why for m, why in NOT_FOR_A_LINK.items() if loaded(result["at_import"], m)} == {}
    assert loaded(result["at_import"], "nightshift.actions.http")
