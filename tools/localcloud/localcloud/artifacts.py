"""A function's code and layers, unpacked from the very zips `sam package` uploaded to moto.

Lambda unzips the function into /var/task and each layer, in order, into /opt (a later layer's
files win), and puts /opt/python on sys.path. Here the zips are fetched from moto's S3 by the
keys in the translated template and unpacked once into `.localcloud/artifacts/` (keys are
content hashes, so an unchanged artifact is never unpacked twice); the layers of a function are
merged into `.localcloud/opt/<digest>/` as symlinks, which stands in for /opt.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localcloud.errors import RuntimeSetupError
from localcloud.stack import Stack

LAMBDA_OPT = "/opt"


@dataclass(frozen=True)
class S3Artifact:
    bucket: str
    key: str


@dataclass(frozen=True)
class FunctionPackage:
    """Where a deployed function's code (the task root) and merged layers (/opt) are on disk."""

    logical_id: str
    task_root: Path
    opt_dir: Path

    def local_path(self, value: str) -> str:
        """An environment value that names a file under /opt, pointed into the emulated /opt.

        >>> FunctionPackage("F", Path("/t"), Path("/lc/opt")).local_path("/opt/policy.yaml")
        '/lc/opt/policy.yaml'
        """
        if value == LAMBDA_OPT or value.startswith(f"{LAMBDA_OPT}/"):
            return str(self.opt_dir) + value.removeprefix(LAMBDA_OPT)
        return value

    @property
    def python_path(self) -> str:
        """Lambda's layer entries on sys.path, in Lambda's order, pointed into the emulated /opt."""
        layer_paths = (
            self.opt_dir / "python" / "lib" / "python3.13" / "site-packages",
            self.opt_dir / "python",
        )
        return os.pathsep.join(str(path) for path in layer_paths)


def function_package(stack: Stack, logical_id: str) -> FunctionPackage:
    """Unpack the function `logical_id` and its layers as deployed in `stack`."""
    properties = stack.resolver().resolve(_function_properties(stack, logical_id))
    code = _s3_artifact(properties.get("Code", {}), f"{logical_id}.Code")
    layers = [_layer_artifact(stack, logical_id, layer) for layer in _layer_refs(stack, logical_id)]
    cache = stack.project.state_dir
    task_root = unpack(stack, code, cache / "artifacts")
    opt_dir = merge_layers(
        [unpack(stack, layer, cache / "artifacts") for layer in layers], cache / "opt"
    )
    return FunctionPackage(logical_id=logical_id, task_root=task_root, opt_dir=opt_dir)


def _function_properties(stack: Stack, logical_id: str) -> Mapping[str, Any]:
    resource = stack.resource(logical_id)
    if resource["Type"] != "AWS::Lambda::Function":
        raise RuntimeSetupError(f"{logical_id} is a {resource['Type']}, not a function")
    return dict(resource.get("Properties", {}))


def _layer_refs(stack: Stack, logical_id: str) -> list[Any]:
    return list(_function_properties(stack, logical_id).get("Layers", []))


def _layer_artifact(stack: Stack, function: str, layer: Any) -> S3Artifact:
    # A layer of the stack is a Ref to its LayerVersion; an ARN from elsewhere cannot be fetched.
    if not (isinstance(layer, dict) and set(layer) == {"Ref"}):
        raise RuntimeSetupError(
            f"{function} uses layer {layer!r}, which is not a layer of this stack; "
            "the local cloud can only run layers it deployed itself"
        )
    resource = stack.resource(layer["Ref"])
    content = stack.resolver().resolve(resource.get("Properties", {}).get("Content", {}))
    return _s3_artifact(content, f"{layer['Ref']}.Content")


def _s3_artifact(location: Mapping[str, Any], where: str) -> S3Artifact:
    if "S3Bucket" not in location or "S3Key" not in location:
        raise RuntimeSetupError(f"{where} is not an S3 location (was the template packaged?)")
    return S3Artifact(str(location["S3Bucket"]), str(location["S3Key"]))


def unpack(stack: Stack, artifact: S3Artifact, cache: Path) -> Path:
    """The artifact's zip from moto's S3, unpacked once into `cache` (atomically)."""
    target = cache / artifact.bucket / artifact.key
    if target.is_dir():
        return target
    try:
        body = stack.endpoint.client("s3").get_object(Bucket=artifact.bucket, Key=artifact.key)
    except ClientError as exc:
        raise RuntimeSetupError(
            f"artifact s3://{artifact.bucket}/{artifact.key} is not in moto: {exc}"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=target.parent))
    with zipfile.ZipFile(io.BytesIO(body["Body"].read())) as archive:
        archive.extractall(staging)
    _publish(staging, target)
    return target


def merge_layers(layers: Sequence[Path], cache: Path) -> Path:
    """One folder standing in for /opt: every layer's files in order, the later one winning."""
    digest = hashlib.sha256("\n".join(str(layer) for layer in layers).encode()).hexdigest()[:20]
    target = cache / digest
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".merging-", dir=cache))
    for layer in layers:
        for source in sorted(layer.rglob("*")):
            if source.is_dir() or "__pycache__" in source.parts:
                continue
            link = staging / source.relative_to(layer)
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(source)
    _publish(staging, target)
    return target


def _publish(staging: Path, target: Path) -> None:
    """Move a finished folder into place; if a concurrent run got there first, keep theirs."""
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise
