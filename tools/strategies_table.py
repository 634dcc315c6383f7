#!/usr/bin/env python3
"""The table of docs/TRAINING.md, "Strategies compared", from an experiment's report: every
strategy's mean over its seeds.

    python3 tools/strategies_table.py runs/strategies      (after retain run ... strategies.yaml)

Reads OUT/report/report.json (retain's metrics per run) and each run's results.json (token passes);
variants are grouped by their name without the trailing "seed=N". Columns (means over the seeds):
average final perplexity (exp of the mean final NLL), average forgetting (nats per token), the share
of naive's forgetting removed, the newest domain's final perplexity against naive's, the average
final perplexity against joint's, training compute against naive (token passes: forward plus
backward tokens, the LwF teacher's forward, EWC's Fisher), wall time against naive, and the spread
of the forgetting reduction over the seeds. Standard library only.
"""
import json
import math
import re
import sys
from pathlib import Path


def main(out):
    report = json.loads((Path(out) / "report" / "report.json").read_text())
    groups = {}
    for run in report["runs"]:
        name = re.sub(r"\s*seed=\S+$", "", run["run_name"])
        m = run["metrics"]["mean_nll"]
        results = json.loads(Path(run["results_file"]).read_text())
        passes = sum(s.get("token_passes", 0) for s in results["stages"])
        wall = sum(s.get("wall_seconds", 0) for s in results["stages"])
        groups.setdefault(name, []).append({
            "final": m["average_final"], "forgetting": m["average_forgetting"],
            "newest": m["per_task"][-1]["final"], "passes": passes, "wall": wall,
            "seed": results["config"].get("seed")})

    def mean(name, key):
        return sum(r[key] for r in groups[name]) / len(groups[name])

    naive = [n for n in groups if n.split()[0] == "naive"][0]
    joint = [n for n in groups if n.split()[0] == "joint"]
    joint = joint[0] if joint else None
    rows = []
    for name in groups:
        reductions = []
        by_seed = {r["seed"]: r for r in groups[naive]}
        for r in groups[name]:
            base = by_seed.get(r["seed"])
            if base and base["forgetting"] > 0:
                reductions.append(1 - r["forgetting"] / base["forgetting"])
        rows.append([
            name, len(groups[name]),
            math.exp(mean(name, "final")), mean(name, "forgetting"),
            1 - mean(name, "forgetting") / mean(naive, "forgetting"),
            math.exp(mean(name, "newest") - mean(naive, "newest")),
            math.exp(mean(name, "final") - mean(joint, "final")) if joint else float("nan"),
            mean(name, "passes") / mean(naive, "passes"),
            mean(name, "wall") / mean(naive, "wall"),
            (min(reductions), max(reductions)) if reductions else None])
    print("| strategy | seeds | avg final ppl | avg forgetting (nll) | forgetting removed vs naive"
          " | newest domain vs naive | avg final ppl vs joint | compute vs naive | wall time vs"
          " naive | removed, per seed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        spread = "" if r[9] is None else "%.0f%% .. %.0f%%" % (100 * r[9][0], 100 * r[9][1])
        print("| %s | %d | %.1f | %+.4f | %.0f%% | %.3fx | %.3fx | %.2fx | %.2fx | %s |" % (
            r[0], r[1], r[2], r[3], 100 * r[4], r[5], r[6], r[7], r[8], spread))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/strategies")
