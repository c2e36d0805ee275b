#!/usr/bin/env python3
"""bench/datapath/summarize.py: turns the datapath suite's raw runs (datapath.raw.jsonl, one JSON
object per run of mpx_bench_udp_blast: path, flows, load warmup|max|fixed|setup, the sender's and
the receiver's reports) into datapath.json in the shape of the bench contract: one table per flow
count, one chart of received kpps per path, and notes saying what the figures mean."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import benchjson  # noqa: E402
from benchjson import rnd  # noqa: E402

LABELS = {
    "veth": "direct veth (no relay)",
    "forward": "IP forwarding",
    "conntrack": "mpx conntrack",
    "xdp-native": "mpx xdp native",
    "xdp-generic": "mpx xdp generic",
    "tc": "mpx tc",
    "userspace": "mpx userspace",
    "rtpengine": "rtpengine (userspace)",
}
ORDER = list(LABELS)


def ratio(a, b):
    return None if a is None or not b else round(a / b, 2)


def main():
    ap = benchjson.summarize_arguments()
    ap.add_argument("--fixed-pps", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    args = ap.parse_args()

    runs = {}
    with open(args.raw) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs[(r["path"], r["flows"], r["load"])] = r

    def figures(path, flows, load):
        r = runs.get((path, flows, load))
        if not r or "send" not in r:
            return None
        s, v = r["send"], r["recv"]
        received = v.get("received", 0)
        elapsed = s["elapsed_s"] or 1
        return {
            "sent": s["sent"],
            "received": received,
            "kpps": received / elapsed / 1000,
            "loss": 100.0 * (s["sent"] - received) / s["sent"] if s["sent"] else None,
            "us_per_pkt": s["machine_busy_s"] * 1e6 / received if received else None,
            "cpu_pct": 100.0 * s["machine_busy_s"] / elapsed,
            "flows_seen": v.get("flows_seen"),
            "daemon_us_per_pkt": (r.get("daemon_cpu_s") or 0) * 1e6 / received
            if received and r.get("daemon_cpu_s") is not None else None,
            "background_pct": 100.0 * r["background"]["machine_busy_s"]
            / r["background"]["elapsed_s"] if r.get("background") else None,
        }

    flow_counts = sorted({k[1] for k in runs})
    paths = [p for p in ORDER if any(k[0] == p for k in runs)]
    tables, charts = [], []
    notes = []
    for flows in flow_counts:
        rows, series = [], []
        veth_fixed = figures("veth", flows, "fixed")
        base_max = {p: figures(p, flows, "max") for p in paths}
        ct = base_max.get("conntrack")
        rte = base_max.get("rtpengine")
        for p in paths:
            m = base_max[p]
            fx = figures(p, flows, "fixed")
            if m is None and fx is None:
                continue
            above = None
            if fx and veth_fixed and fx["us_per_pkt"] is not None and veth_fixed["us_per_pkt"]:
                above = fx["us_per_pkt"] - veth_fixed["us_per_pkt"]
            rows.append([
                LABELS[p],
                rnd(m["kpps"], 1) if m else None,
                rnd(m["loss"], 2) if m else None,
                rnd(m["us_per_pkt"], 3) if m else None,
                rnd(m["daemon_us_per_pkt"], 3) if m and p not in ("veth", "forward") else None,
                rnd(above, 3),
                rnd(fx["cpu_pct"], 1) if fx else None,
                rnd(fx["loss"], 2) if fx else None,
                ratio(m["kpps"] if m else None, ct["kpps"] if ct else None),
                ratio(m["kpps"] if m else None, rte["kpps"] if rte else None),
                rnd(m["background_pct"], 0) if m else None,
            ])
            if m:
                series.append({"label": LABELS[p], "value": rnd(m["kpps"], 1)})
        tables.append({
            "title": f"Datapath cost, {flows:,} flows (172-byte RTP, max load and "
                     f"{args.fixed_pps / 1000:g} kpps fixed load)",
            "columns": ["path", "kpps (max load)", "loss % (max)", "us/pkt (max, whole machine)",
                        "relay process us/pkt (max)",
                        f"us/pkt above veth ({args.fixed_pps / 1000:g} kpps)",
                        f"CPU % of one core ({args.fixed_pps / 1000:g} kpps)",
                        f"loss % ({args.fixed_pps / 1000:g} kpps)",
                        "kpps vs conntrack", "kpps vs rtpengine",
                        "other load CPU % (idle 0.5 s before)"],
            "rows": rows,
        })
        charts.append({"title": f"Received kpps at max offered load, {flows:,} flows",
                       "unit": "kpps", "series": series})
        for p in paths:
            m = base_max[p]
            if m and m["flows_seen"] is not None and p not in ("veth", "forward") \
                    and m["flows_seen"] < flows:
                notes.append(f"{LABELS[p]}, {flows} flows: only {m['flows_seen']} of {flows} "
                             "flows delivered anything at max load.")

    setups = []
    for (p, flows, load), r in sorted(runs.items()):
        if load == "setup" and r.get("signal"):
            s = r["signal"]
            setups.append([LABELS.get(p, p), flows, s.get("ok"), rnd(s.get("calls_per_s"), 0),
                           rnd(s.get("p50_ms"), 3), rnd(s.get("p99_ms"), 3)])
    if setups:
        tables.append({"title": "Datapath suite: setting up the calls (8 connections)",
                       "columns": ["path", "calls", "ok", "setups/s", "p50 ms", "p99 ms"],
                       "rows": setups})

    notes[:0] = [
        f"Each run sends {args.seconds:g} s of 172-byte RTP datagrams (12-byte header + 160 bytes "
        "of PCMA) round-robin over the flows from the caller namespace (sendmmsg, pinned to CPU 0) "
        "to a recvmmsg receiver in the callee namespace (pinned to CPU 1); the direct veth "
        "baseline sends over the caller's veth to a receiver in the relay namespace. Calls are set "
        "up before the run through the real mpx-dispatcher and mpx-relay (module socket, "
        "protocol A as OpenSIPS sends it) or rtpengine's ng protocol, then warmed up (latching) "
        "with a low-rate pass; only one direction (caller to callee) carries media.",
        "kpps (max load): packets received per second while the generator sends as fast as it "
        "can; loss: the share of the sent packets that never arrived. us/pkt (max): the whole "
        "machine's busy CPU (/proc/stat: user+system+irq+softirq, all cores) over the sending "
        "interval per received packet; it includes the generator spinning on its core, so it "
        "grows where packets are lost.",
        f"At the fixed load ({args.fixed_pps:g} pps, i.e. {args.fixed_pps / 100:g} calls' worth "
        "at 2 x 50 pps per call when all flows are summed) the generator sleeps between "
        "batches; 'us/pkt above veth' is (machine busy CPU / received packets) minus the same "
        "figure of the direct veth path in the same run, i.e. what the relay path adds per "
        "packet. 'CPU % of one core' is the whole machine's busy time over the interval "
        "(200 % = both cores of this 2-CPU machine).",
        "relay process us/pkt: the CPU time (user + system, all threads, /proc/PID/stat) of "
        "the relay daemon (mpx-relay or rtpengine) during the max-load run per received "
        "packet; near 0 where the kernel forwards (conntrack, XDP, TC). 'other load CPU %': the "
        "machine's busy CPU measured over 0.5 s just before the run while the suite only "
        "sleeps (200 % = both cores busy with someone else's work); where it is high the "
        "whole-machine figures and the kpps are not trustworthy.",
        "Ratios are received kpps at max load divided by mpx conntrack's (resp. rtpengine's) "
        "in the same run and flow count.",
    ]
    notes += benchjson.read_notes(args.notes)

    if os.path.basename(args.out) != "datapath.json":
        raise SystemExit(f"--out must name datapath.json, not {args.out}")
    benchjson.write_suite(
        os.path.dirname(os.path.abspath(args.out)), "datapath", "Datapath cost in the network lab",
        tables=tables,
        charts=charts,
        notes=notes, started=args.started, duration_s=args.duration, quick=args.quick == "1")


if __name__ == "__main__":
    main()
