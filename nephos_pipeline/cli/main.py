"""The ``nephos`` command: one entry point, one module per sub-command.

Each sub-command module exposes ``register(subparsers)``; it adds its parser and sets
``func`` to the handler, which takes the parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ["dynamodb", "simulate", "demo", "doctor", "serve", "snowflake-server"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nephos", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"nephos_pipeline.cli.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:  # a sub-command not built yet
            if exc.name != f"nephos_pipeline.cli.{name.replace('-', '_')}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
