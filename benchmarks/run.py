"""Run the benchmarks: ``python -m benchmarks.run [--size small|1m] [--only NAME] [--backend ...]``.

Every benchmark measures leadpond and a baseline in the same run, so the ratio holds on a noisy
machine. Results go to ``benchmarks/results/latest.json`` and a table on the terminal.
"""

import argparse
import importlib
import json
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.common import Context, Result, machine
from leadpond.kit.runtime import tune_for_batches

BENCHMARKS = (
    "ingest_http",
    "pipeline_drain",
    "identity_accuracy",
    "identity_suggestions",
    "identity_rebuild",
    "rules_pipeline",
    "rules_backfill",
    "segments",
    "channels_email",
    "journeys",
)
RESULTS = Path(__file__).resolve().parent / "results"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _table(results: list[Result]) -> Table:
    table = Table(title="leadpond benchmarks")
    for column in ("benchmark", "leadpond", "baseline", "ratio", "target", "ok"):
        table.add_column(column, justify="right" if column in ("leadpond", "ratio") else "left")
    for result in results:
        baseline = "—" if result.baseline is None else _number(result.baseline)
        ratio = "—" if result.ratio is None else f"{result.ratio:.3f}"
        verdict = {True: "[green]yes[/]", False: "[red]no[/]", None: "info"}[result.passed]
        table.add_row(
            result.name,
            f"{_number(result.leadpond)} {result.unit}",
            f"{baseline} ({result.baseline_name})",
            ratio,
            result.target,
            verdict,
        )
    return table


def _run_all(
    ctx: Context,
    names: list[str],
    results: list[Result],
    errors: dict[str, str],
    console: Console,
) -> None:
    for name in names:
        console.print(f"[bold]{name}[/] ({ctx.size}, {ctx.backend}) ...")
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            results.extend(module.run(ctx))
        except Exception:
            errors[name] = traceback.format_exc()
            console.print(f"[red]{name} failed[/]\n{errors[name]}")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks and write the JSON result file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=("small", "1m"), default="small")
    parser.add_argument("--only", choices=BENCHMARKS, action="append")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    tune_for_batches()  # as ``leadpond serve`` / ``worker`` run: the benchmarks measure them
    console = Console(width=150)
    results: list[Result] = []
    errors: dict[str, str] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leadpond-bench-") as scratch:
        ctx = Context(size=args.size, backend=args.backend, scratch=Path(scratch))
        with ctx.resources:
            _run_all(ctx, args.only or list(BENCHMARKS), results, errors, console)
    document = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": args.size,
        "backend": args.backend,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "results": [result.to_dict() for result in results],
        "errors": errors,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    console.print(_table(results))
    console.print(f"written to {args.output} in {document['seconds']} s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
