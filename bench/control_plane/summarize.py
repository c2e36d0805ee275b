#!/usr/bin/env python3
"""bench/control_plane/summarize.py: turns the control_plane suite's raw measurements
(control_plane.raw.jsonl: per peer, live-session level and connection count, the set-up and
remove reports of mpx_bench_signal) into control_plane.json in the shape of the bench contract:
one table of set-ups, one of removes, a chart of set-ups per second, and notes."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import benchjson  # noqa: E402
from benchjson import rnd  # noqa: E402

PEERS = {"mpx": "mpx (dispatcher + TLS + relay)", "rtpengine": "rtpengine (ng)"}


def main():
    ap = benchjson.summarize_arguments()
    ap.add_argument("--calls", type=int, required=True)
    ap.add_argument("--relays", type=int, required=True)
    args = ap.parse_args()

    measures, preloads = [], []
    with open(args.raw) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            (preloads if "preload" in r else measures).append(r)

    def ratio_to(peer, live, conns, key):
        for m in measures:
            if m["peer"] == peer and m["live"] == live and m["conns"] == conns and m.get(key):
                return m[key].get("calls_per_s")
        return None

    setup_rows, remove_rows, series, notes = [], [], [], []
    for m in measures:
        s, r = m.get("setup") or {}, m.get("remove") or {}
        peer = PEERS.get(m["peer"], m["peer"])
        rte = ratio_to("rtpengine", m["live"], m["conns"], "setup")
        mpx = ratio_to("mpx", m["live"], m["conns"], "setup")
        setup_rows.append([peer, m["live"], m["conns"], s.get("ok"), rnd(s.get("calls_per_s"), 0),
                           rnd(s.get("p50_ms"), 3), rnd(s.get("p99_ms"), 3),
                           rnd(s.get("p999_ms"), 3),
                           rnd(mpx / rte, 2) if m["peer"] == "mpx" and mpx and rte else None])
        remove_rows.append([peer, m["live"], m["conns"], r.get("ok"), rnd(r.get("calls_per_s"), 0),
                            rnd(r.get("p50_ms"), 3), rnd(r.get("p99_ms"), 3),
                            rnd(r.get("p999_ms"), 3)])
        if s.get("calls_per_s") is not None:
            series.append({"label": f"{m['peer']} {m['live']:,} live, {m['conns']} conn",
                           "value": rnd(s.get("calls_per_s"), 0)})
        for what, rep in (("set-up", s), ("remove", r)):
            if rep.get("failed"):
                notes.append(f"{peer}, {m['live']} live, {m['conns']} connections: {rep['failed']} "
                             f"{what}s failed (first: {rep.get('first_error', '')[:160]})")

    for p in preloads:
        s = p.get("setup") or {}
        if s.get("failed"):
            notes.append(f"{PEERS.get(p['peer'], p['peer'])}: preloading to {p['preload']} live "
                         f"sessions, {s['failed']} set-ups failed "
                         f"(first: {s.get('first_error', '')[:160]})")

    notes[:0] = [
        f"A set-up is one call as OpenSIPS's mediaproxy module drives it: an `update` for the "
        "INVITE (type request) and one for the 200 OK (type reply) on the dispatcher's module "
        "socket (protocol A); the dispatcher asks a relay over TLS, the relay allocates the "
        "ports and opens the sockets (userspace datapath) and the answer goes back. A remove is "
        "the BYE's `remove`. For rtpengine the same call is an ng `offer` and `answer` (bencode "
        "over UDP, with an SDP each) and a `delete`.",
        f"Each figure: {args.calls} calls spread over C concurrent connections (each connection "
        "one request at a time, as one proxy worker), set-ups per second = calls / wall time; "
        "p50/p99/p99.9 are per request (update or offer/answer) answer times in milliseconds "
        "seen by the client. 'Live' sessions were set up beforehand and stay up during the "
        f"measurement. mpx ran {args.relays} relay process(es), each in its own network namespace behind a veth "
        "(the dispatcher tells relays apart by source address), under one "
        "dispatcher; rtpengine ran as one process on loopback, userspace only (--table=-1).",
        "'vs rtpengine' is mpx's set-ups per second divided by rtpengine's at the same live "
        "level and connection count.",
    ]
    notes += benchjson.read_notes(args.notes)

    if os.path.basename(args.out) != "control_plane.json":
        raise SystemExit(f"--out must name control_plane.json, not {args.out}")
    benchjson.write_suite(
        os.path.dirname(os.path.abspath(args.out)), "control_plane", "Control plane: session set-up and remove",
        tables=[
            {"title": "Session set-up (offer + answer) through the control plane",
             "columns": ["peer", "live sessions", "connections", "calls ok", "set-ups/s",
                         "p50 ms", "p99 ms", "p99.9 ms", "vs rtpengine"],
             "rows": setup_rows},
            {"title": "Session remove through the control plane",
             "columns": ["peer", "live sessions", "connections", "calls ok", "removes/s",
                         "p50 ms", "p99 ms", "p99.9 ms"],
             "rows": remove_rows},
        ],
        charts=[{"title": "Session set-ups per second", "unit": "set-ups/s",
                    "series": series}],
        notes=notes, started=args.started, duration_s=args.duration, quick=args.quick == "1")


if __name__ == "__main__":
    main()
