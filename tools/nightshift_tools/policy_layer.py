"""Build the policy layer: every policy file checked completely (`review_policy`), then written
as the functions read it, the document as JSON (`nightshift.policy.as_json`) under the file's own
name. JSON is YAML, so the name, the template's `PolicyFile` and `/opt/<name>` stay as they are,
and a function parses it with the standard library instead of importing PyYAML at a cold start.

    python -m nightshift_tools.policy_layer OUT_DIR FILE ...

Run by policy/Makefile when `sam build` builds PolicyLayer. A file with a mistake fails the
build (one line per mistake on stderr, exit status 1) and nothing is written for it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from nightshift.policy import as_json
from nightshift.policy.loader import read_document
from nightshift_tools.policy_check import review_policy


def build_layer(files: Iterable[Path], out: Path) -> list[str]:
    """Write each file's JSON form into `out`; return the mistakes (empty: all written)."""
    mistakes: list[str] = []
    for path in files:
        review = review_policy(path)
        if not review.ok:
            mistakes.extend(str(mistake) for mistake in review.mistakes)
            continue
        document = read_document(path.read_text(encoding="utf-8"), str(path))
        (out / path.name).write_text(as_json(document) + "\n", encoding="utf-8")
    return mistakes


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) < 2:
        print("usage: python -m nightshift_tools.policy_layer OUT_DIR FILE ...", file=sys.stderr)
        return 2
    out = Path(arguments[0])
    out.mkdir(parents=True, exist_ok=True)
    mistakes = build_layer([Path(name) for name in arguments[1:]], out)
    for mistake in mistakes:
        print(f"error: {mistake}", file=sys.stderr)
    return 1 if mistakes else 0


if __name__ == "__main__":
    sys.exit(main())
