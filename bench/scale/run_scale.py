#!/usr/bin/env python3
"""bench/scale/run_scale.py: the scale suite. Memory (RSS) and CPU of mpx-relay and
mpx-dispatcher as live streams grow, and the cost of the relays' timeout sweep, with no traffic
lab: the dispatcher runs in a scratch network namespace, each relay in its own namespace linked
to it by a veth (the dispatcher tells relays apart by source address), TLS between them with the
test PKI, relays on the userspace datapath (their sockets are what a stream costs before
hand-off); B2's mpx_bench_signal sets calls up through the dispatcher's module socket exactly as
OpenSIPS does (one audio stream per call).

Figures at 0 (the baseline), 1,000, 10,000 and (full run) 50,000 live streams:
  - RSS of the dispatcher and of the relays (summed) and the increase per stream;
  - CPU time the daemons spent setting the streams up, per stream (ns-exact, from schedstat);
  - the relays' idle CPU per second at that size, and the sweep cost: a relay runs one sweep
    per poll interval (1 s here: on_hold_timeout = 6 s gives poll = 6 s / 6), so the idle CPU
    per second above the 0-stream baseline is the cost of one sweep over all streams.
Relays: each holds four sockets per stream and asks for (port range + 1,000) open files, so the
hard RLIMIT_NOFILE caps its streams (and one address holds 16,127 at most): the suite starts
enough relays for the largest size plus 25 %.

Everything it starts is stopped and the namespaces removed on exit, also on SIGTERM.

    run_scale.py OUT_DIR BUILD_DIR SOURCE_DIR [--quick]
"""
import glob
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import benchjson  # noqa: E402


def cpu_ns(pid):
    """CPU time of every thread of pid, in ns (schedstat: exact, unlike stat's ticks)."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path, encoding="ascii") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Lab:
    """The dispatcher in namespace NS (module socket, management on 127.0.0.1:25061) and
    `relays` relays, each in its own namespace NS-rI linked to NS by a veth (10.78.I.2 relay,
    10.78.I.1 dispatcher side): the dispatcher tells relays apart by their source address."""

    def __init__(self, build_dir, source_dir, relays, port_range):
        self.build_dir, self.source_dir = build_dir, source_dir
        self.ns = f"mpx-bench-scale-{os.getpid()}"
        self.namespaces = []
        self.tmp = tempfile.mkdtemp(prefix="mpx-bench-scale.")
        self.procs = []
        self.relay_count = relays
        self.port_range = port_range
        self.relays = []

    def sh(self, *args):
        subprocess.run(args, check=True)

    def add_ns(self, name):
        self.sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        self.sh("ip", "-n", name, "link", "set", "lo", "up")

    def __enter__(self):
        self.add_ns(self.ns)
        pki = os.path.join(self.tmp, "pki")
        subprocess.run([os.path.join(self.source_dir, "tests/pki/make-test-pki.sh"), pki],
                       check=True, stdout=subprocess.DEVNULL)
        disp = os.path.join(self.tmp, "dispatcher")
        os.makedirs(os.path.join(disp, "run"))
        with open(os.path.join(disp, "config.ini"), "w", encoding="utf-8") as f:
            f.write("[Dispatcher]\nsocket_path = dispatcher.sock\nlisten = 0.0.0.0\n"
                    "listen_management = 127.0.0.1\nmanagement_use_tls = no\nsip_proxy = none\n"
                    f"log_level = WARNING\n\n[TLS]\ncerts_path = {pki}\n")
        self.socket = os.path.join(disp, "run", "dispatcher.sock")
        self.dispatcher = self.start(self.ns, "mpx-dispatcher", disp)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.socket):
            if time.monotonic() > deadline or self.dispatcher.poll() is not None:
                raise RuntimeError("the dispatcher did not open its module socket")
            time.sleep(0.1)
        for i in range(self.relay_count):
            ns = f"{self.ns}-r{i}"
            self.add_ns(ns)
            self.sh("ip", "-n", self.ns, "link", "add", f"r{i}", "type", "veth", "peer", "name",
                    "eth0", "netns", ns)
            self.sh("ip", "-n", self.ns, "addr", "add", f"10.78.{i}.1/30", "dev", f"r{i}")
            self.sh("ip", "-n", self.ns, "link", "set", f"r{i}", "up")
            self.sh("ip", "-n", ns, "addr", "add", f"10.78.{i}.2/30", "dev", "eth0")
            self.sh("ip", "-n", ns, "link", "set", "eth0", "up")
            relay = os.path.join(self.tmp, f"relay{i}")
            os.makedirs(os.path.join(relay, "run"))
            with open(os.path.join(relay, "config.ini"), "w", encoding="utf-8") as f:
                f.write(f"[Relay]\ndispatchers = 10.78.{i}.1\nrelay_ip = 10.78.{i}.2\n"
                        f"port_range = {self.port_range[0]}:{self.port_range[1]}\n"
                        "datapath = userspace\nstream_timeout = 600\non_hold_timeout = 6\n"
                        "traffic_sampling_period = 15\nlog_level = WARNING\n"
                        f"\n[TLS]\ncerts_path = {pki}\n")
            self.relays.append(self.start(ns, "mpx-relay", relay))
        deadline = time.monotonic() + 30
        while self.registered() < self.relay_count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.registered()} of {self.relay_count} relays "
                                   "registered with the dispatcher")
            time.sleep(0.3)
        return self

    def registered(self):
        """Relays the dispatcher's management `summary` lists as usable."""
        probe = ("import json,socket\n"
                 "s=socket.create_connection(('127.0.0.1',25061),timeout=5)\n"
                 "s.sendall(b'summary\\r\\n')\n"
                 "d=b''\n"
                 "while not d.endswith(b'\\n'):\n"
                 "    c=s.recv(65536)\n"
                 "    if not c: break\n"
                 "    d+=c\n"
                 "print(len([r for r in json.loads(d) if r.get('status')!='error']))\n")
        out = subprocess.run(["ip", "netns", "exec", self.ns, sys.executable, "-c", probe],
                             check=False, capture_output=True, text=True, timeout=10)
        try:
            return int(out.stdout.strip())
        except ValueError:
            return 0

    def start(self, ns, binary, directory):
        log = open(os.path.join(directory, "daemon.log"), "w", encoding="utf-8")
        # `ip netns exec` execs the daemon in place: the PID is the daemon's.
        p = subprocess.Popen(["ip", "netns", "exec", ns, self.binary(binary), "--config-dir",
                              directory, "--runtime-dir", os.path.join(directory, "run"),
                              "--no-fork"],
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def relay_pids(self):
        return [p.pid for p in self.relays]

    def binary(self, name):
        for candidate in (os.path.join(self.build_dir, name.split("-")[1], name),
                          os.path.join(self.build_dir, name)):
            if os.access(candidate, os.X_OK):
                return candidate
        found = glob.glob(os.path.join(self.build_dir, "**", name), recursive=True)
        if not found:
            raise RuntimeError(f"{name} not found under {self.build_dir}")
        return found[0]

    def signal_bench(self, calls, first, phase="setup"):
        exe = os.path.join(self.build_dir, "bench", "mpx_bench_signal")
        out = subprocess.run(["ip", "netns", "exec", self.ns, exe, "mpx", "--socket", self.socket,
                              "--calls", str(calls), "--conns", "4", "--first", str(first),
                              "--prefix", "scale", "--phase", phase],
                             check=False, capture_output=True, text=True, timeout=300)
        try:
            return json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"mpx_bench_signal: {out.stderr.strip()[-500:]}")

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], check=False)
        if exc[0] is not None:
            for log in sorted(glob.glob(os.path.join(self.tmp, "*", "daemon.log")))[:3]:
                with open(log, encoding="utf-8", errors="replace") as f:
                    sys.stderr.write(f"--- {log} (tail)\n" + f.read()[-2000:])
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def total_cpu_ns(pids):
    return sum(cpu_ns(pid) for pid in pids)


def total_rss_kib(pids):
    return sum(rss_kib(pid) for pid in pids)


def idle_cpu_per_s(pids, window):
    before, t0 = total_cpu_ns(pids), time.monotonic()
    time.sleep(window)
    return (total_cpu_ns(pids) - before) / (time.monotonic() - t0)


def main():
    out_dir, build_dir, source_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    quick = "--quick" in sys.argv[4:]
    timer = benchjson.Timer()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = [1000, 10000] if quick else [1000, 10000, 50000]
    # A relay opens four sockets per stream and asks for (port range + 1000) descriptors, so the
    # hard RLIMIT_NOFILE it inherits caps the streams one relay holds; above that, more relays.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = 1 << 30 if hard == resource.RLIM_INFINITY else hard
    span = min(65534 - 1024, hard - 1000 - 16) // 4 * 4
    capacity = span // 4
    # 25 % slack: the dispatcher spreads calls over the relays without looking at free ports.
    relays = max(1, math.ceil(sizes[-1] * 1.25 / capacity))
    window = 3.0 if quick else 10.0
    samples = []
    with Lab(build_dir, source_dir, relays, (1024, 1024 + span)) as lab:
        pids = lab.relay_pids()

        def sample(streams, setup_relay_ns=None, setup_disp_ns=None, rate=None):
            samples.append({
                "streams": streams,
                "relay_rss_kib": total_rss_kib(pids),
                "dispatcher_rss_kib": rss_kib(lab.dispatcher.pid),
                "relay_idle_ns_per_s": idle_cpu_per_s(pids, window),
                "setup_relay_ns": setup_relay_ns, "setup_dispatcher_ns": setup_disp_ns,
                "setup_rate": rate})

        sample(0)
        live = 0
        for size in sizes:
            r0, d0 = total_cpu_ns(pids), cpu_ns(lab.dispatcher.pid)
            result = lab.signal_bench(size - live, live)
            if result.get("failed"):
                raise RuntimeError(f"{result['failed']} calls failed: {result.get('first_error')}")
            added = size - live
            live = size
            time.sleep(0.5)
            sample(size, (total_cpu_ns(pids) - r0) / added,
                   (cpu_ns(lab.dispatcher.pid) - d0) / added, result.get("calls_per_s"))
            print(f"scale: {size} streams: {samples[-1]}", file=sys.stderr)

    base = samples[0]
    label = f"mpx-relay x{relays} (userspace datapath)" if relays > 1 else "mpx-relay (userspace datapath)"
    rows, rss_series, sweep_series = [], [], []
    for s in samples:
        n = s["streams"]

        def per_stream(key, s=s, n=n):
            return round((s[key] - base[key]) * 1024 / n) if n else None

        sweep_us = (s["relay_idle_ns_per_s"] - base["relay_idle_ns_per_s"]) / 1000 if n else None
        rows.append([label, n, round(s["relay_rss_kib"] / 1024, 1), per_stream("relay_rss_kib"),
                     round(s["setup_relay_ns"] / 1000, 1) if s["setup_relay_ns"] else None,
                     round(s["relay_idle_ns_per_s"] / 1000, 1),
                     round(sweep_us, 1) if sweep_us is not None else None,
                     round(sweep_us * 1000 / n, 2) if sweep_us is not None else None])
        rows.append(["mpx-dispatcher", n, round(s["dispatcher_rss_kib"] / 1024, 1),
                     per_stream("dispatcher_rss_kib"),
                     round(s["setup_dispatcher_ns"] / 1000, 1) if s["setup_dispatcher_ns"] else None,
                     None, None, None])
        rss_series.append({"label": f"relays, {n:,} streams",
                           "value": round(s["relay_rss_kib"] / 1024, 1)})
        rss_series.append({"label": f"dispatcher, {n:,} streams",
                           "value": round(s["dispatcher_rss_kib"] / 1024, 1)})
        if sweep_us is not None:
            sweep_series.append({"label": f"{n:,} streams", "value": round(sweep_us, 1)})
    table = {"title": "Memory and CPU by live streams (0 streams = the baseline of the same run)",
             "columns": ["daemon", "live streams", "RSS MiB", "RSS bytes per stream above 0",
                         "setup CPU us per stream", "idle CPU us per s", "timeout sweep us",
                         "sweep ns per stream"],
             "rows": rows}
    notes = [
        f"The dispatcher and {relays} relay(s), each in its own network namespace linked to the "
        "dispatcher's by a veth, TLS between them with the test PKI; calls set up through the "
        "dispatcher's module socket by mpx_bench_signal (4 connections), one audio stream per "
        "call, no media sent. The relays use the userspace datapath: each stream holds four bound "
        "sockets until it is handed to a kernel datapath. Relay figures are summed over the "
        "relays.",
        f"Relays: a relay asks for (port range + 1,000) open files and the hard open-file limit "
        f"here is {hard:,}, so one relay holds at most {capacity:,} streams; the suite starts "
        f"enough relays for the largest size plus 25 % (the dispatcher spreads calls without "
        f"looking at free ports).",
        "Setup CPU: the daemons' CPU time (all threads, from /proc schedstat) while the streams "
        "were set up, per stream. Idle CPU: CPU time per second of wall time at rest. Timeout "
        "sweep: a relay sweeps every stream once per poll interval (1 s in this set-up), so the "
        "idle CPU per second above the 0-stream baseline is the cost of one sweep over all "
        "streams.",
    ]
    if quick:
        notes.append(f"Quick mode: idle CPU over {window:.0f} s windows, rough.")
    charts = [{"title": "RSS by live streams", "unit": "MiB", "series": rss_series},
              {"title": "Relay timeout sweep cost (all relays)", "unit": "us per sweep",
               "series": sweep_series}]
    benchjson.write_suite(out_dir, "scale", "Scale: memory and CPU by live streams", [table],
                          charts, notes, started=timer.started, duration_s=timer.elapsed())


if __name__ == "__main__":
    main()
