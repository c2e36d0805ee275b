"""bench/lib/benchjson.py: what every suite writes the same way: the machine record and the
<name>.json document of the suite contract (bench/README.md, "Suite contract"), and what the
summarize.py scripts of the lab suites read the same way: their common arguments and the notes
file."""
import argparse
import datetime
import json
import os
import time


def machine():
    """{"cpus", "kernel", "cpu_model"} of this machine."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "kernel": os.uname().release, "cpu_model": model}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_suite(out_dir, suite, title, tables, charts=(), notes=(), started=None,
                duration_s=None, quick=None):
    """Writes out_dir/<suite>.json. started: ISO time (default now); quick: default from
    MPX_BENCH_QUICK."""
    if quick is None:
        quick = os.environ.get("MPX_BENCH_QUICK", "0") == "1"
    doc = {
        "suite": suite,
        "title": title,
        "quick": bool(quick),
        "started": started or now_iso(),
        "duration_s": duration_s,
        "machine": machine(),
        "tables": list(tables),
        "charts": list(charts),
        "notes": list(notes),
    }
    path = os.path.join(out_dir, f"{suite}.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
    os.replace(path + ".tmp", path)
    return path


def summarize_arguments():
    """An ArgumentParser with what every suite script passes its summarize.py: --raw (the raw
    results), --notes (a file of notes, one a line), --quick, --started, --duration, --out; the
    caller adds its own arguments and parses."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--notes", required=True)
    ap.add_argument("--quick", default="0")
    ap.add_argument("--started", required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--out", required=True)
    return ap


def read_notes(path):
    """The non-empty lines of a notes file, stripped; none when it does not exist."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def rnd(x, digits=2):
    """x rounded, None stays None (not measured)."""
    return None if x is None else round(x, digits)


def ratio(value, baseline):
    """value / baseline, None when either is missing or the baseline is 0."""
    if value is None or baseline in (None, 0):
        return None
    return value / baseline


class Timer:
    """started (ISO) and elapsed seconds of a suite."""

    def __init__(self):
        self.started = now_iso()
        self._t0 = time.monotonic()

    def elapsed(self):
        return round(time.monotonic() - self._t0, 1)
