"""Run the performance benchmarks: ``python -m benchmarks [--quick | --full] [--only NAME] [--out PATH]``.

Each benchmark runs in its own Python process (so its peak RSS is its own and no DuckDB or
moto state leaks between them), one after another, and the results are merged into one
JSON file, by default ``benchmarks/results/latest.json``:

    {"figures": {NAME: {"value", "unit", "target", "baseline", "ratio", "met", ...}},
     "machine": "...", "mode": ..., "benchmarks": {name: {"seconds", "details", "scaling", ...}}}

``--quick`` (the default) runs reduced sizes, about 3-4 minutes on 2 cores; ``--full`` runs
the issue's sizes (about 8 minutes). Figures are wall-clock times on a shared machine: the load average is
recorded before and after each benchmark, and figures are noisy when it is high.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import MODES, load_average, machine, machine_line, quiet

BENCHMARKS = ("extract", "load", "analysis", "backfill", "startup", "llm_cost", "reconcile", "scale", "local")
RESULTS = Path(__file__).resolve().parent / "results"


def run_one(name: str, mode: str) -> dict[str, Any]:
    """``benchmarks.bench_<name>.run(mode)`` in a child process; its result plus wall time and load."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    load_before = load_average()
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--child", name, "--mode", mode,
                           "--child-out", str(path)], cwd=Path(__file__).resolve().parents[1])
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"figures": {}, "error": f"exit code {proc.returncode}"}
    if proc.returncode == 0:
        result = json.loads(path.read_text())
    path.unlink(missing_ok=True)
    result["seconds"] = round(seconds, 1)
    result["load_average_before"] = load_before
    result["load_average_after"] = load_average()
    return result


def child(name: str, mode: str, out: str) -> None:
    quiet()
    module = importlib.import_module(f"benchmarks.bench_{name}")
    result = module.run(mode)
    result["peak_rss_mb"] = _peak_rss_self()
    Path(out).write_text(json.dumps(result, default=str))


def _peak_rss_self() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def summary_table(results: dict[str, Any]) -> str:
    lines = ["| figure | value | unit | target | baseline | ratio | met |", "|---|---|---|---|---|---|---|"]
    for name, f in results["figures"].items():
        met = {True: "yes", False: "**no**", None: "n/a"}[f["met"]]
        target = "" if f["target"] is None else ("ratio >= " if f.get("goal") == "min_ratio" else
                                                 ">= " if f.get("goal") == "min_value" else "<= ") + _fmt(f["target"])
        lines.append(f"| {name} | {_fmt(f['value'])} | {f['unit']} | {target} | {_fmt(f['baseline'])} | "
                     f"{_fmt(f['ratio'])} | {met} |")
    return "\n".join(lines)


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"
    return str(x)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="mode", const="quick", help="reduced sizes (default)")
    size.add_argument("--full", action="store_const", dest="mode", const="full", help="the issue's full sizes")
    size.add_argument("--tiny", action="store_const", dest="mode", const="tiny", help="smoke-test sizes")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, default=None, help="result file (default benchmarks/results/latest.json)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.mode or "quick", args.child_out)
        return 0
    mode = args.mode or "quick"
    names = args.only or list(BENCHMARKS)
    out = args.out or RESULTS / "latest.json"
    info = machine()
    started = time.perf_counter()
    results: dict[str, Any] = {"figures": {}, "machine": machine_line(info), "mode": mode,
                               "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine_details": info, "benchmarks": {}}
    for name in names:
        print(f"[{time.perf_counter() - started:6.0f} s] {name} ({mode}) ...", flush=True)
        result = run_one(name, mode)
        results["figures"].update(result.pop("figures", {}))
        results["benchmarks"][name] = result
        print(f"[{time.perf_counter() - started:6.0f} s] {name}: {result['seconds']} s, load average "
              f"{result['load_average_before']} -> {result['load_average_after']}"
              + (f", ERROR {result['error']}" if "error" in result else ""), flush=True)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_end"] = load_average()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(summary_table(results))
    print(f"\n{len(names)} benchmark(s) in {results['seconds']} s; wrote {out}")
    return 1 if any("error" in r for r in results["benchmarks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
