"""Benchmarks (ARCHITECTURE.md section 12): `make bench` runs this inside `scripts/devenv.py exec`.

Each benchmark will report its figure next to a baseline measured in the same run. None exist yet;
the run still writes its result file so the plumbing (and CI artefacts) can rely on it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps({"benchmarks": [], "note": "no benchmarks yet"}, indent=2) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
