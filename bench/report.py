#!/usr/bin/env python3
"""bench/report.py: turns the suites' <name>.json files (bench/README.md, "Suite contract") into
results.md (one markdown table per suite table, the machine line once) and results.png (one bar
subplot per chart; a chart with "log": true gets a logarithmic axis), and optionally puts
results.md into README.md between the bench markers.

    bench/report.py OUT_DIR [--update-readme README.md]

A JSON file that is not a suite result (unreadable, no "suite" or "tables") is reported in
results.md and makes the exit status 1; the others are still reported.
"""
import argparse
import json
import math
import os
import sys

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def fmt(value):
    """A table cell: numbers with about 3 significant digits, null as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "—"
        magnitude = abs(value)
        if magnitude >= 1000:
            return f"{value:,.0f}"
        if magnitude >= 100:
            return f"{value:.1f}"
        if magnitude >= 0.01 or magnitude == 0:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def load(out_dir):
    """(suites sorted by name, problems) from every *.json in out_dir."""
    suites, problems = [], []
    for name in sorted(os.listdir(out_dir)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(out_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            problems.append(f"{name}: not readable JSON ({e})")
            continue
        if not isinstance(doc, dict) or "suite" not in doc or not isinstance(doc.get("tables"), list):
            problems.append(f"{name}: not a suite result (needs \"suite\" and \"tables\")")
            continue
        suites.append(doc)
    return suites, problems


def suite_status(out_dir):
    """{suite: (exit status, seconds)} from run.sh's suites.tsv, when present."""
    status = {}
    try:
        with open(os.path.join(out_dir, "suites.tsv"), encoding="utf-8") as f:
            next(f, None)
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    status[parts[0]] = (int(parts[1]), parts[2])
    except OSError:
        pass
    return status


def machine_line(suites):
    for doc in suites:
        m = doc.get("machine") or {}
        if m:
            cpus = m.get("cpus", "?")
            return (f"Machine: {cpus} CPUs, {m.get('cpu_model', 'unknown CPU')}, "
                    f"Linux {m.get('kernel', '?')}.")
    return "Machine: unknown."


def markdown(suites, problems, status):
    lines = []
    quick = any(doc.get("quick") for doc in suites)
    started = min((doc.get("started", "") for doc in suites), default="")
    when = started[:16].replace("T", " ") + " UTC" if started else "unknown date"
    lines.append(f"_{machine_line(suites)} Run of {when}"
                 f"{', quick mode (CI: proves the harness, figures are rough)' if quick else ''}._")
    lines.append("")
    for doc in suites:
        title = doc.get("title") or doc["suite"]
        duration = doc.get("duration_s")
        took = f" ({fmt(float(duration))} s)" if isinstance(duration, (int, float)) else ""
        lines.append(f"**{title}** — suite `{doc['suite']}`{took}")
        lines.append("")
        for table in doc["tables"]:
            columns = table.get("columns") or []
            rows = table.get("rows") or []
            if table.get("title"):
                lines.append(f"_{fmt(table['title'])}_")
                lines.append("")
            if not columns:
                continue
            lines.append("| " + " | ".join(fmt(c) for c in columns) + " |")
            lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|")
            for row in rows:
                cells = [fmt(v) for v in row] + [""] * (len(columns) - len(row))
                lines.append("| " + " | ".join(cells[: len(columns)]) + " |")
            lines.append("")
        notes = doc.get("notes") or []
        for note in notes:
            lines.append(f"- {fmt(note)}")
        if notes:
            lines.append("")
    reported = {doc["suite"] for doc in suites}
    for name, (rc, seconds) in sorted(status.items()):
        if rc != 0:
            problems.append(f"suite {name} failed (exit status {rc} after {seconds} s)")
        elif name not in reported:
            problems.append(f"suite {name} exited 0 but wrote no {name}.json")
    for problem in problems:
        lines.append(f"- **Not reported:** {problem}")
    if problems:
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def charts(suites, path):
    panels = []
    for doc in suites:
        for chart in doc.get("charts") or []:
            series = [s for s in chart.get("series") or []
                      if isinstance(s.get("value"), (int, float)) and not isinstance(s.get("value"), bool)]
            if series:
                panels.append((doc, chart, series))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not panels:
        fig, ax = plt.subplots(figsize=(8, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no charts in this run", ha="center", va="center")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return
    columns = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / columns)
    heights = [max(len(series) for _, _, series in panels[r * columns:(r + 1) * columns]) for r in range(rows)]
    fig, axes = plt.subplots(rows, columns, squeeze=False,
                             figsize=(7 * columns, sum(1.2 + 0.32 * h for h in heights)),
                             gridspec_kw={"height_ratios": [1.2 + 0.32 * h for h in heights]})
    for index, (doc, chart, series) in enumerate(panels):
        ax = axes[index // columns][index % columns]
        labels = [str(s.get("label", "")) for s in series]
        values = [float(s["value"]) for s in series]
        bars = ax.barh(range(len(values)), values, color="#3b75af")
        ax.set_yticks(range(len(values)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        unit = chart.get("unit", "")
        if chart.get("log") and min(values) > 0:  # optional key: values spanning decades
            ax.set_xscale("log")
            unit += " (log scale)"
        ax.set_xlabel(unit, fontsize=8)
        ax.set_title(f"{chart.get('title', doc['suite'])}", fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.bar_label(bars, labels=[fmt(v) for v in values], fontsize=7, padding=2)
        ax.margins(x=0.18)
    for index in range(len(panels), rows * columns):
        axes[index // columns][index % columns].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def update_readme(readme, text):
    with open(readme, encoding="utf-8") as f:
        content = f.read()
    begin = content.find(BEGIN)
    end = content.find(END, begin + len(BEGIN)) if begin >= 0 else -1
    if begin < 0 or end < 0:
        raise SystemExit(f"report.py: {readme} has no {BEGIN} ... {END} markers")
    content = content[: begin + len(BEGIN)] + "\n" + text + content[end:]
    with open(readme, "w", encoding="utf-8") as f:
        f.write(content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--update-readme", metavar="README")
    args = parser.parse_args()
    suites, problems = load(args.out_dir)
    status = suite_status(args.out_dir)
    unreadable = bool(problems)  # suite failures are run.sh's to report; these are ours
    text = markdown(suites, problems, status)
    with open(os.path.join(args.out_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write(text)
    charts(suites, os.path.join(args.out_dir, "results.png"))
    if args.update_readme:
        update_readme(args.update_readme, text)
    print(f"report.py: {len(suites)} suites -> {os.path.join(args.out_dir, 'results.md')}, results.png"
          f"{', README updated' if args.update_readme else ''}")
    return 1 if unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
