#!/usr/bin/env python3
"""Result records and markdown tables for bench/run.sh (python3 standard library only).

  report.py record --meta M.json --input I.json --benchmark NAME --probes P.tsv
                   [--hyperfine H.json] [--mode list|run] [--notes TEXT] --out R.json
      Writes one record (shared/reference/peers-and-benchmarks.md §7) combining the probe runs
      (status, wall time, peak RSS of each command) with hyperfine's export.

  report.py markdown --meta M.json R.json...
      Prints a markdown section: one row per command with medians, spread, peak RSS, per-job
      overhead (run benchmarks) and the ratio gantry/peer.

Probe file (tab-separated, one line per command):
  tool  command  status  wall_s  rss_kib[,rss_kib...]  hyperfine(0|1)  concurrency  detail  op
op (list, preview, run) pairs each peer command with the Gantry command it is compared to.
status is one of: ok, killed (timeout), failed (non-zero exit or wrong result), gate-failed.
"""

import argparse
import json
import statistics
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_probes(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (9 - len(parts))
            tool, command, status, wall, rss, hf, conc, detail, op = parts[:9]
            rows.append(
                {
                    "tool": tool,
                    "command": command,
                    "status": status,
                    "wall_s": float(wall) if wall else None,
                    "rss_kib": [int(x) for x in rss.split(",") if x],
                    "hyperfine": hf == "1",
                    "concurrency": int(conc) if conc else None,
                    "detail": detail,
                    "op": op or "default",
                }
            )
    return rows


def record(args):
    meta = load(args.meta)
    inp = load(args.input)
    probes = read_probes(args.probes)
    hf = {}
    if args.hyperfine:
        for r in load(args.hyperfine)["results"]:
            hf[r["command"]] = r
    results = []
    for p in probes:
        r = {"tool": p["tool"], "op": p["op"], "command": p["command"], "status": p["status"]}
        if p["concurrency"]:
            r["concurrency"] = p["concurrency"]
        if p["rss_kib"]:
            r["peak_rss_mib"] = round(statistics.median(p["rss_kib"]) / 1024, 1)
        h = next((v for k, v in hf.items() if k.endswith(p["command"])), None)
        if p["status"] == "ok" and h:
            r.update(
                median_s=h["median"],
                mean_s=h["mean"],
                stddev_s=h["stddev"],
                min_s=h["min"],
                max_s=h["max"],
                runs=len(h.get("times", [])),
                hyperfine_command=h["command"],
            )
        elif p["status"] == "ok":
            # too slow for repeated runs: the single probe run is the result
            r.update(median_s=p["wall_s"], mean_s=p["wall_s"], stddev_s=None, runs=1)
        elif p["status"] == "killed":
            r.update(timeout_s=p["wall_s"], median_s=None)
        if p["detail"]:
            r["detail"] = p["detail"]
        if args.mode == "run" and r.get("median_s") is not None:
            conc = p["concurrency"] or 1
            script = meta.get("script_s", 0.0) * inp["jobs"] / conc
            r["per_job_overhead_ms"] = round(
                max(r["median_s"] - script, 0.0) / inp["jobs"] * 1000, 2
            )
        results.append(r)
    ratios = {}
    ops = {r["op"] for r in results}
    for r in results:
        g = gantry_for(results, r)
        if g and r.get("median_s"):
            key = f"gantry/{r['tool']}" + (f" ({r['op']})" if len(ops) > 1 else "")
            ratios[key] = round(g["median_s"] / r["median_s"], 4)
    rec = {
        "benchmark": args.benchmark,
        "date": meta["date"],
        "machine": dict(meta["machine"], loadavg_after=meta_loadavg()),
        "inputs": {
            "generator": inp["name"],
            "jobs": inp["jobs"],
            "commit": inp["commit"],
            "bytes": inp["bytes"],
            "params": inp["params"],
        },
        "tools": meta["tools"],
        "mode": args.mode,
        "results": results,
        "ratios": ratios,
        "notes": " ".join(x for x in [meta.get("notes", ""), args.notes or ""] if x),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(rec, f, indent=1)
        f.write("\n")


def gantry_for(results, r):
    """The successful Gantry result a peer's result is compared with (same op)."""
    if r["tool"] == "gantry":
        return None
    return next(
        (
            g
            for g in results
            if g["tool"] == "gantry" and g.get("op") == r.get("op") and g.get("median_s")
        ),
        None,
    )


def meta_loadavg():
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return ""


def fmt(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def markdown(args):
    meta = load(args.meta)
    m = meta["machine"]
    t = meta["tools"]
    out = []
    out.append(f"## {meta['date']} {meta['time']} — `bench/run.sh {meta['subcommand']}`")
    out.append("")
    out.append(
        f"Machine: {m['kind']}, {m['cores']} cores, {m['ram_gib']} GiB, kernel {m['kernel']}; "
        f"load before {m['loadavg_before']}, after {meta_loadavg()}."
    )
    out.append(
        "Tools: "
        + ", ".join(f"{k} {v}" for k, v in t.items())
        + f". Concurrency {meta['concurrency']} (gcil runs jobs one at a time)."
    )
    if meta.get("notes"):
        out.append(f"Notes: {meta['notes']}")
    out.append("")
    out.append(
        "| benchmark | input (jobs) | tool | command | median s | mean ± σ s | min–max s "
        "| runs | peak RSS MiB | overhead/job ms | gantry ÷ tool |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in args.records:
        rec = load(path)
        for r in rec["results"]:
            gantry = gantry_for(rec["results"], r)
            status = r["status"]
            if status == "killed":
                median = f"> {fmt(r.get('timeout_s'), 0)} s, killed"
            elif status != "ok":
                median = status
            else:
                median = fmt(r.get("median_s"))
            spread = "–"
            if r.get("stddev_s") is not None and r.get("mean_s"):
                spread = f"{fmt(r['mean_s'])} ± {fmt(r['stddev_s'])}"
                if r["stddev_s"] > 0.2 * r["mean_s"]:
                    spread += " ⚠σ>20%"
            rng = "–"
            if r.get("min_s") is not None:
                rng = f"{fmt(r['min_s'])}–{fmt(r['max_s'])}"
            ratio = "–"
            if gantry and r.get("median_s"):
                ratio = f"{gantry['median_s'] / r['median_s']:.2f}×"
            first, _, rest = r["command"].partition(" ")
            cmd = (first.rsplit("/", 1)[-1] + " " + rest).strip().replace("|", "\\|")
            out.append(
                f"| {rec['benchmark']} | {rec['inputs']['generator']} ({rec['inputs']['jobs']}) "
                f"| {r['tool']} | `{cmd}` | {median} | {spread} | {rng} | {r.get('runs', '–')} "
                f"| {fmt(r.get('peak_rss_mib'), 1)} | {fmt(r.get('per_job_overhead_ms'), 1)} "
                f"| {ratio} |"
            )
    out.append("")
    gaps = meta.get("feature_gaps")
    if gaps:
        out.append("Feature gaps: " + gaps)
        out.append("")
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--meta", required=True)
    r.add_argument("--input", required=True)
    r.add_argument("--benchmark", required=True)
    r.add_argument("--probes", required=True)
    r.add_argument("--hyperfine")
    r.add_argument("--mode", default="list", choices=["list", "run"])
    r.add_argument("--notes")
    r.add_argument("--out", required=True)
    m = sub.add_parser("markdown")
    m.add_argument("--meta", required=True)
    m.add_argument("records", nargs="+")
    args = ap.parse_args()
    if args.cmd == "record":
        record(args)
    else:
        markdown(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
