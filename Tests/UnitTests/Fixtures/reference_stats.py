#!/usr/bin/env python3
"""Reference answers for HistoryTests, from the tools lockstep is checked against.

Reads one JSON request from stdin, writes one JSON answer to stdout:
  {"otava": [[series...], ...], "window": 50, "pvalue": 0.001}
      -> [[change point indices...], ...] from Apache Otava's compute_change_points
  {"mannwhitney": [[[a...], [b...]], ...]}
      -> [[U1, p], ...] from scipy.stats.mannwhitneyu (two-sided, method auto)
"""
import json
import sys

request = json.load(sys.stdin)
if "otava" in request:
    from otava.analysis import compute_change_points

    out = []
    for series in request["otava"]:
        points, _ = compute_change_points(
            list(series), window_len=request.get("window", 50), max_pvalue=request.get("pvalue", 0.001),
            min_magnitude=request.get("magnitude", 0.0))
        out.append([int(p.index) for p in points])
    print(json.dumps(out))
elif "mannwhitney" in request:
    from scipy.stats import mannwhitneyu

    out = []
    for a, b in request["mannwhitney"]:
        r = mannwhitneyu(a, b, alternative="two-sided", method="auto")
        out.append([float(r.statistic), float(r.pvalue)])
    print(json.dumps(out))
else:
    sys.exit("unknown request")
