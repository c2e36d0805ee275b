#!/usr/bin/env python3
"""bench/flow/to_suite.py: mpx_bench_flow's output -> flow_programming.json (suite contract).

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
    base = {(r["datapath"], r["batch"]): r for r in doc["rows"] if r["path"].startswith("baseline")}
    rows, series = [], []
    for r in doc["rows"]:
        b = base.get((r["datapath"], r["batch"]))
        is_base = r["path"].startswith("baseline")
        rows.append([r["datapath"], r["path"], r["batch"], r["flows"], round(r["install_per_s"]),
                     round(r["remove_per_s"]),
                     None if is_base else round(benchjson.ratio(r["install_per_s"], b["install_per_s"]), 2),
                     None if is_base else round(benchjson.ratio(r["remove_per_s"], b["remove_per_s"]), 2)])
        if not is_base:
            how = "one by one" if "hand-off" in r["path"] else f"batch {r['batch']}"
            series.append({"label": f"{r['datapath']} install, {how}",
                           "value": round(r["install_per_s"])})
            series.append({"label": f"{r['datapath']} remove, {how}",
                           "value": round(r["remove_per_s"])})
    table = {"title": "flows per second: N flows installed then removed in batches, best of "
                      f"{doc['repetitions']} repetition(s)",
             "columns": ["datapath", "path", "batch", "flows (N)", "installs/s", "removes/s",
                         "install vs baseline", "remove vs baseline"],
             "rows": rows}
    chart = {"title": "Flow programming rate (mpx datapaths)", "unit": "flows/s", "series": series,
             "log": True}
    notes = [
        "One flow is one relayed stream (both directions): one conntrack entry with DNAT+SNAT, or "
        "two BPF hash map entries. 'vs baseline' divides mpx's rate by the bare kernel "
        "interface's for the same entries and batch size (conntrack: libmnl batch of "
        "create/destroy without read-back; BPF: bpf_map_update_batch / bpf_map_delete_batch): "
        "1.0 means mpx adds nothing, 0.5 that it halves the rate.",
        "Conntrack runs in a scratch network namespace; the BPF datapath attaches XDP (generic) "
        "to a veth interface there and pins its maps on a scratch bpffs. See bench/README.md "
        "for why mpx is behind the bare interface.",
    ]
    benchjson.write_suite(out_dir, "flow_programming", "Flow programming: installs and removes per second",
                          [table], [chart], notes, started=started, duration_s=duration)


if __name__ == "__main__":
    main()
