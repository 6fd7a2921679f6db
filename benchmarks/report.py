"""Render a benchmark result file as the Markdown table of docs/performance.md.

``python -m benchmarks.report [benchmarks/results/latest.json]``
"""

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.run import RESULTS


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def markdown(document: dict[str, Any]) -> str:
    """The results as a Markdown table, with the run's size, backend and machine."""
    machine = document["machine"]
    lines = [
        f"Run {document['finished_at']}, size `{document['size']}`, backend "
        f"`{document['backend']}`, {document['seconds']} s; {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['memory_gb']} GB, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}.",
        "",
        "| benchmark | leadpond | baseline (same run) | ratio | target | met |",
        "| --- | ---: | --- | ---: | --- | --- |",
    ]
    for result in document["results"]:
        met = {True: "yes", False: "no", None: "—"}[result["passed"]]
        lines.append(
            f"| {result['name']} | {_number(result['leadpond'])} {result['unit']} "
            f"| {_number(result['baseline'])} ({result['baseline_name']}) "
            f"| {_number(result['ratio'])} | {result['target']} | {met} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"
    print(markdown(json.loads(path.read_text())))
