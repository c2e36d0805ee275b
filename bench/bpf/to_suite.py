#!/usr/bin/env python3
"""bench/bpf/to_suite.py: mpx_bench_bpf_program's output -> bpf_program.json (suite contract).

    to_suite.py OUT_DIR STARTED_ISO DURATION_S MEASUREMENTS
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import benchjson  # noqa: E402


def main():
    out_dir, started, duration, path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    rows, series = [], []
    for r in doc["rows"]:
        fwd, unk, base = r["forwarded_ns"], r["unknown_ns"], r["baseline_ns"]
        route = r["route_only_ns"]
        rows.append([r["hook"], r["flows"], round(fwd, 1), round(unk, 1), round(route, 1),
                     round(base, 1), round(fwd - base, 1), round(unk - base, 1),
                     round(route - base, 1)])
        series.append({"label": f"{r['hook']} forwarded, {r['flows']:,} flows",
                       "value": round(fwd - base, 1)})
        series.append({"label": f"{r['hook']} unknown flow, {r['flows']:,} flows",
                       "value": round(unk - base, 1)})
    table = {"title": "ns per packet, BPF_PROG_TEST_RUN (kernel-timed, mean of "
                      f"{doc['calls_per_case']:,} runs per case)",
             "columns": ["program", "flows installed", "forwarded ns", "unknown flow ns",
                         "hit + route only ns", "baseline ns", "forwarded - baseline",
                         "unknown - baseline", "hit + route - baseline"],
             "rows": rows}
    chart = {"title": "BPF forwarder cost above the pass-through baseline", "unit": "ns/packet",
             "series": series}
    notes = [
        "Forwarded: a 172-byte RTP-like UDP/IPv4 packet of an installed flow (parse, flow lookup, "
        "route lookup with bpf_fib_lookup, rewrite with checksum update, counters, redirect "
        "verdict). Unknown flow: the same packet from a port with no flow (parse, lookup miss, "
        "verdict counter, pass). Hit + route only: a flow that matches but names another egress "
        "interface than the route's, so the program passes it right after bpf_fib_lookup: "
        "forwarded minus this is the rewrite, accounting and redirect. Baseline: a program that returns XDP_PASS / TC_ACT_OK at once, "
        "run the same way; 'minus baseline' is the forwarder's own work.",
        "Each run is one BPF_PROG_TEST_RUN with repeat=1 over a fresh frame (a repeated run would "
        "see the frame it rewrote itself); the kernel's timing of one run includes a clock read, "
        "which the baseline includes too. The flow table is hot in the cache here: with many "
        "flows and real traffic, lookups also pay cache misses that this test cannot show.",
    ]
    benchjson.write_suite(out_dir, "bpf_program", "XDP and TC program cost per packet",
                          [table], [chart], notes, started=started, duration_s=duration)


if __name__ == "__main__":
    main()
