#!/usr/bin/env python3
"""tests/bench/check_quick.py: the bench.quick ctest test. Runs bench/run.sh --quick into a
fresh OUT directory and checks the harness contract (bench/README.md), never the figures:
  - run.sh exited 0 (every suite exited 0, report.py succeeded);
  - every executable bench/suites/<name>.sh has OUT/<name>.json, valid JSON, "suite" == name,
    "quick" true, and at least one table with columns and rows, each row as long as its columns;
  - OUT/results.md mentions every suite and OUT/results.png is a PNG.
Exit 77 (ctest: skipped) when not root, unless CI=true (then it fails: CI must run it).

    check_quick.py --run bench/run.sh --build-dir BUILD --out OUT
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

SKIP = 77


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            print("bench.quick: needs root (namespaces, BPF) and CI=true: failing", file=sys.stderr)
            return 1
        print("bench.quick: skipped, needs root (namespaces, BPF)", file=sys.stderr)
        return SKIP

    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    run = subprocess.run([args.run, "--quick", "--out", args.out, "--build-dir", args.build_dir],
                         check=False)
    errors = []
    if run.returncode != 0:
        errors.append(f"bench/run.sh --quick exited {run.returncode}")

    suites_dir = os.path.join(os.path.dirname(os.path.abspath(args.run)), "suites")
    suites = sorted(n[:-3] for n in os.listdir(suites_dir)
                    if n.endswith(".sh") and os.access(os.path.join(suites_dir, n), os.X_OK))
    if not suites:
        errors.append(f"no executable suites in {suites_dir}")
    for name in suites:
        path = os.path.join(args.out, f"{name}.json")
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            errors.append(f"{name}: no valid {name}.json ({e})")
            continue
        if doc.get("suite") != name:
            errors.append(f"{name}: \"suite\" is {doc.get('suite')!r}")
        if doc.get("quick") is not True:
            errors.append(f"{name}: \"quick\" is not true in a quick run")
        tables = [t for t in doc.get("tables") or []
                  if isinstance(t, dict) and t.get("columns") and t.get("rows")]
        if not tables:
            errors.append(f"{name}: no table with columns and rows")
        for t in tables:
            for row in t["rows"]:
                if len(row) != len(t["columns"]):
                    errors.append(f"{name}: table {t.get('title')!r} has a row of {len(row)} "
                                  f"cells for {len(t['columns'])} columns")
                    break

    md = os.path.join(args.out, "results.md")
    if not os.path.isfile(md):
        errors.append("no results.md")
    else:
        with open(md, encoding="utf-8") as f:
            text = f.read()
        for name in suites:
            if f"`{name}`" not in text:
                errors.append(f"results.md does not report suite {name}")
    png = os.path.join(args.out, "results.png")
    try:
        with open(png, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                errors.append("results.png is not a PNG")
    except OSError:
        errors.append("no results.png")

    for e in errors:
        print(f"bench.quick: {e}", file=sys.stderr)
    if not errors:
        print(f"bench.quick: {len(suites)} suites OK: {', '.join(suites)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
