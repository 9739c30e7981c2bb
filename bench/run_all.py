"""Run every benchmark in this folder, one after the other.

Each script prints its own figures as ratios against a baseline measured in
the same run. This runner only starts them and reports which ones failed.
Usage: ``python bench/run_all.py [NAME ...]`` with names such as ``cache``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    """Run the chosen benchmarks (all by default) and return 1 if any failed."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [script for script in scripts if script.stem.removeprefix("bench_") in names]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        result = subprocess.run([sys.executable, str(script)], check=False)
        if result.returncode != 0:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
