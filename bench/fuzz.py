"""Fuzzing: schemathesis against the OpenAPI document, authenticated, every
operation; the long form of tests/fuzz (60 examples per operation, over 1,000
requests). Goal: no 5xx, no response outside its documented schema.

Usage: python bench/fuzz.py [--examples 60] [--json out.json]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, arguments, report, write


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--examples", type=int, default=60)
    args = parser.parse_args()
    summary = Path(tempfile.mkdtemp()) / "fuzz.txt"
    env = {**os.environ, "TECHAPI_FUZZ_EXAMPLES": str(args.examples), "TECHAPI_FUZZ_REPORT": str(summary)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fuzz"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    passed = result.returncode == 0
    counts = summary.read_text().strip() if summary.exists() else "no report"
    if not passed:
        print(result.stdout[-4000:])
    requests = int(counts.split(", ")[1].split()[0]) if passed else 0
    out = report("fuzzing (schemathesis)", 1.0 if passed else 0.0, "no 5xx, no schema violation, >= 1,000 requests",
                 passed and requests >= 1000, operations_and_requests=counts)
    write(args.json, [out])


if __name__ == "__main__":
    main()
