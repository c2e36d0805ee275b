#!/usr/bin/env python3
"""bench/micro/to_suite.py: turns Google Benchmark JSON outputs (one per executable) into the
micro suite's micro.json. Each benchmark is reported in ns/op (CPU time, less disturbed than wall
time by other processes) with its ratio to its baseline of the same run: for BM_<Group>_<What>/<args>
the baseline is BM_Baseline_<Group>/<args>; when there is none and the executable has a single
baseline, that one.

    to_suite.py OUT_DIR STARTED_ISO DURATION_S TITLE=FILE.gbench ...
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import benchjson  # noqa: E402

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def rows_of(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    results = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        results[b["name"]] = b["cpu_time"] * TO_NS[b.get("time_unit", "ns")]
    return results


def baseline_of(name, results):
    m = re.match(r"BM_([A-Za-z0-9]+)_[^/]*(/.*)?$", name)
    if m:
        candidate = f"BM_Baseline_{m.group(1)}{m.group(2) or ''}"
        if candidate in results:
            return candidate
    baselines = [n for n in results if n.startswith("BM_Baseline_")]
    return baselines[0] if len(baselines) == 1 else None


def main():
    out_dir, started, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])
    tables, charts = [], []
    for spec in sys.argv[4:]:
        title, path = spec.split("=", 1)
        results = rows_of(path)
        if not results:
            raise SystemExit(f"to_suite.py: no benchmark results in {path}")
        rows, series = [], []
        for name, ns in results.items():
            if name.startswith("BM_Baseline_"):
                continue
            base = baseline_of(name, results)
            base_ns = results.get(base) if base else None
            rows.append([name[3:], round(ns, 1), base[3:] if base else None,
                         round(base_ns, 1) if base_ns is not None else None,
                         round(ns / base_ns, 2) if base_ns else None])
            series.append({"label": name[3:], "value": round(ns, 1)})
        for name, ns in results.items():
            if name.startswith("BM_Baseline_"):
                rows.append([name[3:], round(ns, 1), None, None, None])
        tables.append({"title": title,
                       "columns": ["benchmark", "ns/op", "baseline", "baseline ns/op", "x baseline"],
                       "rows": rows})
        charts.append({"title": f"{title} (ns/op)", "unit": "ns/op", "series": series})
    notes = [
        "ns/op is CPU time per operation (Google Benchmark, cpu_time). 'x baseline' divides it by "
        "the baseline of the same run: what the mpx code costs compared with the least any "
        "implementation must do (see bench/README.md).",
        "Protocol baselines: one pass over the same bytes looking for the separator (CRLF in "
        "the request, ',' in the media header, '\"' in the statistics JSON). Session baseline: "
        "std::unordered_map insert + erase of the call's key with as many other calls present. "
        "Port pool baseline: std::vector pop_back + push_back.",
        "SessionManager_CallSetupTeardown/N is one whole call (offer update, answer update, "
        "remove with statistics) with N other calls live; PortPool_AllocateRelease/P is one pair "
        "with the pool P % full.",
    ]
    benchjson.write_suite(out_dir, "micro", "Micro-benchmarks: parsers, session logic, port pool",
                          tables, charts, notes, started=started, duration_s=duration)


if __name__ == "__main__":
    main()
