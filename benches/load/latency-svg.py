#!/usr/bin/env python3
"""Draw latency percentile curves (HdrHistogram style) from `bench --json --latency` reports.

    python3 benches/load/latency-svg.py TITLE OUT.svg NAME=REPORT.json [NAME=REPORT.json]...

The x axis is the percentile on the usual log scale of 1/(1 - p) (50%, 90%, 99%, 99.9%, ...),
the y axis the latency in milliseconds; one line per report, from its `latency_distribution`.
Plain SVG text: no plotting library needed to build or view it.
"""
import html
import json
import math
import sys

W, H = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 170, 50, 60
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
TICKS = [50.0, 90.0, 99.0, 99.9, 99.99, 99.999]
TOP_PERCENTILE = 99.9999  # where 100% (the max) is drawn


def x_of(p):
    p = min(p, TOP_PERCENTILE)
    return math.log10(1.0 / (1.0 - p / 100.0))


def nice_ceiling(v):
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    title, out, specs = argv[1], argv[2], argv[3:]
    series = []
    for spec in specs:
        name, _, path = spec.partition("=")
        with open(path) as f:
            report = json.load(f)
        points = [(d["percentile"], d["latency_us"] / 1000.0) for d in report["latency_distribution"]]
        series.append((name, points))
    x_max = x_of(TOP_PERCENTILE)
    y_max = nice_ceiling(max(ms for _, pts in series for _, ms in pts))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def sx(p):
        return LEFT + pw * x_of(p) / x_max

    def sy(ms):
        return TOP + ph * (1 - ms / y_max)

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="15">{html.escape(title)}</text>']
    for i in range(6):
        ms = y_max * i / 5
        y = sy(ms)
        o.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{ms:g}</text>')
    for p in TICKS + [100.0]:
        x = sx(p)
        o.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#ddd"/>')
        label = "max" if p == 100.0 else f"{p:g}%"
        o.append(f'<text x="{x:.1f}" y="{TOP + ph + 18}" text-anchor="middle">{label}</text>')
    o.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    o.append(f'<text x="{LEFT + pw / 2}" y="{H - 14}" text-anchor="middle">percentile</text>')
    o.append(f'<text x="18" y="{TOP + ph / 2}" text-anchor="middle" '
             f'transform="rotate(-90 18 {TOP + ph / 2})">latency (ms)</text>')
    for i, (name, pts) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{sx(p):.1f},{sy(ms):.1f}" for p, ms in pts)
        o.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for p, ms in pts:
            o.append(f'<circle cx="{sx(p):.1f}" cy="{sy(ms):.1f}" r="2.5" fill="{color}"/>')
        ly = TOP + 10 + 20 * i
        o.append(f'<line x1="{LEFT + pw + 14}" y1="{ly}" x2="{LEFT + pw + 34}" y2="{ly}" '
                 f'stroke="{color}" stroke-width="3"/>')
        o.append(f'<text x="{LEFT + pw + 40}" y="{ly + 4}">{html.escape(name)}</text>')
    o.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")


if __name__ == "__main__":
    main(sys.argv)
