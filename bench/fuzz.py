"""Fuzzing: schemathesis against the OpenAPI document with random (not
derandomised) inputs, every operation, as a technician, a supervisor and an
admin, then the hostile inputs of tests/fuzz/hostile.py (bodies the JSON parser
cannot take, NUL and lone surrogates everywhere, far dates, non-ASCII header
digits, wrong Content-Types) in every role. The long form of tests/fuzz.
Goal: 0 5xx, no response outside its documented schema.

Usage: python bench/fuzz.py [--examples 60] [--json out.json]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from common import ROOT, arguments, report, write


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--examples", type=int, default=60, help="schemathesis examples per operation and role")
    args = parser.parse_args()
    lines = Path(tempfile.mkdtemp()) / "fuzz.jsonl"
    env = {**os.environ, "TECHAPI_FUZZ_EXAMPLES": str(args.examples), "TECHAPI_FUZZ_RANDOM": "1",
           "TECHAPI_FUZZ_REPORT": str(lines)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fuzz"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    runs = [json.loads(line) for line in lines.read_text().splitlines()] if lines.exists() else []
    statuses: Counter[int] = Counter()
    for run in runs:
        counts = {int(k): v for k, v in run["statuses"].items()}
        statuses.update(counts)
        errors = sum(v for k, v in counts.items() if k >= 500)
        print(f"{run['kind']:>12} as {run['role']:<10} {run['requests']:>6} requests, {errors} 5xx: "
              f"{dict(sorted(counts.items()))}")
    total = sum(statuses.values())
    server_errors = sum(v for k, v in statuses.items() if k >= 500)
    roles = {run["role"] for run in runs}
    passed = result.returncode == 0 and server_errors == 0 and len(runs) == 6
    if not passed:
        print(result.stdout[-6000:])
    out = report("fuzzing (schemathesis, random, 3 roles + hostile inputs)", (total - server_errors) / max(total, 1),
                 "0 5xx, no schema violation, all 3 roles", passed, requests=total, server_errors=server_errors,
                 roles=sorted(roles), statuses={str(k): v for k, v in sorted(statuses.items())},
                 pytest_exit_code=result.returncode)
    print("PASS" if passed else "FAIL")
    write(args.json, [out])
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
