#!/usr/bin/env python3
"""bench/attack/summarize.py: turns the attack suite's raw results into attack.json in the shape
of the bench contract (bench/README.md). Reads, under --raw, one directory per latching (strict,
first_packet) of figures files <scenario>.<datapath>.json written by the attack scenarios
(tests/integration/attack/figures.hpp) and gtest's report <latching>.gtest.json of each run;
writes one table (a row per scenario x datapath x latching: what the attacker sent and got, what
it injected, delivery and first delivery each way, who holds each lock at the end, packets from a
foreign source, the scenario's verdict), a chart of the media bled to the attacker, and notes."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import benchjson  # noqa: E402
from benchjson import rnd  # noqa: E402

LATCHINGS = ["strict", "first_packet"]

# The lab's addresses (tests/support/netns_lab.hpp) and the scenarios' media ports.
CALLER, CALLEE = "10.1.0.10:5000", "10.2.0.20:6000"
HOLDERS_BY_IP = {"10.4.0.40": "attacker", "10.5.0.10": "natted via 10.5.0.10",
                 "10.5.0.11": "natted via 10.5.0.11"}
OTHER_PORT = {"10.1.0.10": "caller IP, port {}", "10.2.0.20": "callee IP, port {}"}

# What each scenario is (tests/integration/attack/*_test.cpp), in table order.
SCENARIOS = {
    "RingingSpray": "sprays every relay port from before the offer, through 3 s of ringing, to "
                    "the end of the call; the endpoints send RTP and RTCP from their SDP "
                    "addresses from the answer on.",
    "LateEndpoints": "the call is answered at once, the endpoints start RTP 2 s later (after "
                     "the learning window) and RTCP 5 s after that; spray throughout.",
    "SsrcHijack": "no spray: once both ends are locked and talking, the attacker sends RTP "
                  "continuing each party's SSRC and sequence numbers, from its own address and "
                  "forged from the party's IP on another port (where a decoy socket listens).",
    "NatSignalingIp": "the caller is behind the NAT, its media mapped to 10.5.0.10, the IP its "
                      "signalling came from; spray from before the offer.",
    "NatUnsignalled": "the NAT maps the caller's media to 10.5.0.11, never signalled; no "
                      "attacker: the relay must learn it after its window (delivery counted from "
                      "1.5 s).",
    "NatUnsignalledSprayed": "the same with the spray: an off-path relay cannot tell two "
                             "unsignalled sources apart, so no verdict on who wins; the locks "
                             "say it.",
    "NatUnsignalledSignalledOnly": "the same spray against `latching = signalled_only` (the "
                                   "baseline's override replaces it with first_packet): "
                                   "unsignalled sources are refused, so the natted caller gets "
                                   "no media by design (delivery 0 is the expected figure).",
    "WebRtcNat": "the natted caller (via 10.5.0.11) is a WebRTC-like peer that sends only STUN "
                 "and a DTLS ClientHello until answered; no attacker, no RTP (delivery and "
                 "first-packet columns are empty; the handshake counts are in the raw figures).",
}
DATAPATH_ORDER = ["conntrack", "userspace", "xdp", "xdp_native", "tc"]


def holder(remote):
    """Who holds a lock, in words, from the statistics' "ip:port"."""
    if not remote or remote == "Unknown":
        return "nobody"
    if remote == CALLER:
        return "caller"
    if remote == CALLEE:
        return "callee"
    ip, _, port = remote.rpartition(":")
    if ip in HOLDERS_BY_IP:
        return HOLDERS_BY_IP[ip]
    if ip in OTHER_PORT:
        return OTHER_PORT[ip].format(port)
    return remote


def percent(fraction):
    return None if fraction is None else rnd(100.0 * fraction, 1)


def load_verdicts(path):
    """{"Suite.Name/param": "pass" | "FAIL" | "skipped"} and {test: first failure line}."""
    verdicts, failures = {}, {}
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError):
        return verdicts, failures
    for suite in report.get("testsuites", []):
        for case in suite.get("testsuite", []):
            test = f"{suite['name']}.{case['name']}"
            if case.get("failures"):
                verdicts[test] = "FAIL"
                failures[test] = case["failures"][0].get("failure", "").strip().splitlines()
            elif case.get("result") == "SKIPPED":
                verdicts[test] = "skipped"
            else:
                verdicts[test] = "pass"
    return verdicts, failures


def load_figures(directory):
    """{test: figures} of one run."""
    figures = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        figures[doc.get("test") or os.path.basename(path)] = doc
    return figures


def listed_tests(path):
    """The tests of `attack_tests --gtest_list_tests` ("Suite.Name/param"), [] without the file."""
    tests, suite = [], ""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                if line.startswith(" ") and suite:
                    tests.append(f"{suite}.{line.split()[0]}")
                elif line.rstrip().endswith("."):
                    suite = line.strip().rstrip(".")
    except OSError:
        pass
    return tests


def scenario_of(test):
    """The scenario name for a test without figures: its fixture without Test."""
    suite = test.split(".", 1)[0].split("/")[-1]
    return suite[:-4] if suite.endswith("Test") else suite


def main():
    ap = benchjson.summarize_arguments()
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--datapaths", required=True)
    ap.add_argument("--strict-rc", type=int, required=True)
    ap.add_argument("--baseline-rc", type=int, required=True)
    args = ap.parse_args()
    datapaths = args.datapaths.split(",")

    rows, notes, problems, bled = [], [], [], {}
    entries = []
    listed = listed_tests(os.path.join(args.raw, "tests.txt"))
    for latching in LATCHINGS:
        verdicts, failures = load_verdicts(os.path.join(args.raw, f"{latching}.gtest.json"))
        figures = load_figures(os.path.join(args.raw, latching))
        for test in sorted(set(listed) | set(verdicts) | set(figures)):
            f = figures.get(test)
            verdict = verdicts.get(test, "not run" if f is None else "cut short")
            scenario = f["scenario"] if f else scenario_of(test)
            datapath = f["datapath"] if f else test.rsplit("/", 1)[-1]
            # The relay's latching as the figures record it (a scenario of the strict run may
            # ask for another one, e.g. signalled_only).
            ran = (f or {}).get("latching") or latching
            entries.append((scenario, datapath, latching, ran, test, f, verdict))
            if latching == "strict" and verdict == "FAIL":
                first = " ".join(failures.get(test, [])[:2])[:240]
                problems.append(f"STRICT SCENARIO FAILED: {test}: {first}")
            if f is None and verdict == "not run":
                problems.append(f"{test} ({latching}): not run (the run was cut short)")
            elif f is None and verdict != "skipped":
                problems.append(f"{test} ({latching}): no figures (the test stopped before "
                                f"publishing them)")
            if verdict == "skipped":
                notes.append(f"{test} ({latching}) was skipped (a missing kernel feature or "
                             f"tool; see attack/{latching}.log).")
            if latching != "strict" and ran != latching:
                problems.append(f"{test}: the baseline's relay ran with latching {ran}, "
                                f"not {latching}")

    order = list(SCENARIOS)
    entries.sort(key=lambda e: (order.index(e[0]) if e[0] in order else len(order), e[0],
                                DATAPATH_ORDER.index(e[1]) if e[1] in DATAPATH_ORDER else 99,
                                LATCHINGS.index(e[2])))
    for scenario, datapath, latching, ran, test, f, verdict in entries:
        if f is None:
            rows.append([scenario, datapath, ran] + [None] * 11 + [verdict])
            continue
        sent, received = f.get("sent", {}), f.get("received", {})
        delivered, first = f.get("delivered", {}), f.get("first_delivered_ms", {})
        rows.append([
            scenario, datapath, ran,
            sent.get("attacker"), received.get("attacker"), f.get("bled"), f.get("injected"),
            percent(delivered.get("caller_to_callee")), percent(delivered.get("callee_to_caller")),
            rnd(first.get("caller_to_callee"), 1), rnd(first.get("callee_to_caller"), 1),
            holder(f.get("caller_remote")), holder(f.get("callee_remote")),
            f.get("foreign_source"), verdict,
        ])
        key = (scenario, latching)
        bled[key] = bled.get(key, 0) + (f.get("bled") or 0)

    series = [{"label": f"{scenario} ({latching})", "value": value}
              for (scenario, latching), value in sorted(
                  bled.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order
                                                else len(order), LATCHINGS.index(kv[0][1])))]

    notes[:0] = [
        "Each scenario runs the real mpx-relay (and dispatcher) in its own attack lab: an "
        "off-path attacker (10.4.0.40, it can reach only the relay's public address), a public "
        "caller (10.1.0.10:5000) and callee (10.2.0.20:6000), and a caller behind a NAT router "
        "(192.168.0.10, mapped to 10.5.0.10 or 10.5.0.11). The spray: 3,000 packets/s "
        "round-robin over every port of the relay's range (40000-40101) and every RFC 7983 kind "
        "(RTP, RTCP, STUN, DTLS, other), each marked so a receiver can tell it is the "
        "attacker's. Endpoints send RTP at 50 packets/s.",
        "Latching 'strict' is mpx's default; 'first_packet' is MediaProxy's behaviour (the first "
        "packet from anyone locks a port), run as the baseline: the same scenarios with env "
        "MPX_ATTACK_LATCHING=first_packet, which replaces every scenario relay's latching. "
        "The scenarios' assertions describe strict latching, so 'FAIL' in a first_packet row is "
        "the expected outcome and does not fail the suite; a strict 'FAIL' does.",
        "Under first_packet whoever sends to a port first owns it for the call: the spray "
        "reaches each port about every 34 ms, so it takes the ports wherever the parties are "
        "quiet once the ports exist (ringing, media that starts late) and may lose the race "
        "where they send at once after the answer; a party that locked first keeps its port "
        "(first_packet never moves a lock, so SSRC continuation gets nothing either).",
        "The latching column is the relay's: the strict run's rows show the product default "
        "but where a scenario asks for another (NatUnsignalledSignalledOnly: signalled_only); "
        "every first_packet row ran with first_packet. 'first ms' near 1,000 in the "
        "NatUnsignalled rows is strict latching's learning window (latching_window_ms = 1000), "
        "during which a party's unsignalled source is held back.",
        "How to read a row: 'attacker sent' = packets the attacker sent (spray, or hijack packets "
        "from its own and forged sources); 'attacker got' = every packet that reached the "
        "attacker's sockets; 'media bled' = legitimate caller/callee media among them (in "
        "SsrcHijack also what reached the decoy sockets); 'injected' = attacker packets that "
        "reached the caller's or callee's sockets; 'delivered %' = of the RTP a party sent "
        "(from 100 ms after its media start; NatSignalingIp and SignalledOnly from the start, "
        "NatUnsignalled from 1.5 s), the share that reached the other party; 'first ms' = the "
        "first of it to arrive, in ms after that party's media start; 'caller lock' / 'callee "
        "lock' = the address the relay's caller-side / callee-side port accepted at the end of "
        "the call (its statistics: 'caller' or 'callee' = the party's SDP address, 'natted via "
        "10.5.0.x' = the NAT's mapping, 'attacker', 'caller IP, port N' = a forged source, "
        "'nobody' = never locked); 'foreign' = packets an endpoint got from another source than "
        "the relay port it talks to. A defended call reads 0 / 0 / 0, 98-100 % both ways, the "
        "parties holding their locks.",
    ] + [f"{name}: {what}" for name, what in SCENARIOS.items()
         if any(e[0] == name for e in entries)] + [
        f"Scale {args.scale} (MPX_ATTACK_SCALE: media and spray last {args.scale}x the test "
        f"suite's durations); datapaths: {', '.join(datapaths)}"
        f"{' (quick mode: a subset of the scenarios, one datapath)' if args.quick == '1' else ''}.",
    ]
    if args.baseline_rc not in (0, 1):
        notes.append(f"The first_packet run ended with exit status {args.baseline_rc} (not a "
                     "test verdict: a crash or the suite's time limit); its missing rows are "
                     "listed below.")
    if args.strict_rc != 0:
        problems.insert(0, f"The strict run exited {args.strict_rc}: the suite fails.")
    notes += problems
    notes += benchjson.read_notes(args.notes)

    if os.path.basename(args.out) != "attack.json":
        raise SystemExit(f"--out must name attack.json, not {args.out}")
    benchjson.write_suite(
        os.path.dirname(os.path.abspath(args.out)), "attack",
        "Attack scenarios: mpx strict latching against MediaProxy's first-packet latching",
        tables=[{
            "title": "Per scenario, datapath and latching: what the attacker got, and the call",
            "columns": ["scenario", "datapath", "latching", "attacker sent", "attacker got",
                        "media bled", "injected", "delivered % caller→callee",
                        "delivered % callee→caller", "first ms caller→callee",
                        "first ms callee→caller", "caller lock", "callee lock", "foreign",
                        "assertions"],
            "rows": rows,
        }],
        charts=[{"title": "Legitimate media bled to the attacker (all datapaths)",
                 "unit": "packets", "series": series}],
        notes=notes, started=args.started, duration_s=args.duration, quick=args.quick == "1")


if __name__ == "__main__":
    main()
