"""The ``nephos`` command: one entry point, one module per sub-command.

Each sub-command module exposes ``register(subparsers)``; it adds its parser and sets
``func`` to the handler, which takes the parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ["dynamodb", "simulate", "demo", "backfill", "doctor", "serve", "snowflake-server"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nephos", description=_plain(__doc__.splitlines()[0]))
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"nephos_pipeline.cli.{name.replace('-', '_')}").register(subparsers)
    for sub in subparsers.choices.values():  # descriptions come from docstrings
        sub.description = _plain(sub.description)
    return parser


def _plain(text: str | None) -> str | None:
    """A docstring line as terminal text: no reStructuredText ``literal`` markup."""
    return text.replace("``", "") if text else text


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
