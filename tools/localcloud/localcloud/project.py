"""Where things are: the checkout, its `sam build` output and the local cloud's own state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from localcloud.errors import BuildMissingError

# tools/localcloud/localcloud/project.py -> the checkout is the folder that holds tools/.
_CHECKOUT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Project:
    """A SAM project as the local cloud sees it.

    `build_dir` holds the `sam build` output (its `template.yaml` is what gets deployed);
    `state_dir` holds what the local cloud keeps between runs (the runtime venv, extracted
    artifacts); `constraints` pins the runtime venv to the same boto3 the dev tools use.
    """

    root: Path
    build_dir: Path
    state_dir: Path
    constraints: Path
    find_python: Path

    @classmethod
    def at(cls, root: Path = _CHECKOUT) -> Project:
        return cls(
            root=root,
            build_dir=root / ".aws-sam" / "build",
            state_dir=root / ".localcloud",
            constraints=root / "requirements" / "dev.txt",
            find_python=root / "scripts" / "find-python",
        )

    def with_build_dir(self, build_dir: Path) -> Project:
        """The same checkout (and state) deploying another built template, e.g. a test app."""
        return replace(self, build_dir=build_dir)

    @property
    def built_template(self) -> Path:
        return self.build_dir / "template.yaml"

    def require_build(self) -> Path:
        """The built template, or an error that says how to make it."""
        if not self.built_template.is_file():
            raise BuildMissingError(
                f"{self.built_template} does not exist: run `make build` (sam build) first"
            )
        return self.built_template
