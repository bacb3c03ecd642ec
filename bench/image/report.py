"""Markdown section for bench/RESULTS.md from bench/image/run.sh's hyperfine exports.

usage: report.py RESULTS_DIR "tool versions" RUNS
"""
import datetime
import json
import os
import platform
import sys

ORDER = ["build-cold", "build-first", "build-cached", "build-changed", "push-new", "push-upload", "push-again", "copy-mount", "retag"]
WHAT = {
    "build-cold": "FROM local busybox; RUN; COPY; RUN — `--no-cache`",
    "build-first": "as build-cold, gantry's unpacked base removed too",
    "build-cached": "same build, unchanged (all cached)",
    "build-changed": "same build after changing the COPY source",
    "push-new": "20 MB layer, OCI layout → new repository (blob mounted)",
    "push-upload": "fresh 20 MB layer every run, OCI layout → registry",
    "push-again": "same push, everything present",
    "copy-mount": "registry → other repository, same registry",
    "retag": "new tag for an existing image",
}


def main():
    results_dir, versions, runs = sys.argv[1], sys.argv[2], sys.argv[3]
    load = open("/proc/loadavg").read().split()[:3]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%MZ")
    out = [
        f"## {now} — `bench/image/run.sh` (gantry image)",
        "",
        f"Machine: {os.cpu_count()} cores, kernel {platform.release()}; load {' '.join(load)}. "
        f"Tools: {versions}. hyperfine, 1 warm-up, {runs} runs; medians in seconds. "
        "All builders start from the same busybox base image, already in their local storage "
        "(pulled from a local `docker-registry`); buildah uses `--layers --isolation chroot`; "
        "`gantry ÷ tool` > 1 means gantry is faster.",
        "",
        "| benchmark | what | tool | median s | mean ± σ s | min–max s | gantry ÷ tool |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ORDER:
        path = os.path.join(results_dir, f"{name}.json")
        if not os.path.exists(path):
            continue
        res = json.load(open(path))["results"]
        gantry = next((r for r in res if r["command"] == "gantry"), None)
        for r in res:
            ratio = "–"
            if gantry and r is not gantry and gantry["median"] > 0:
                ratio = f"{r['median'] / gantry['median']:.1f}×"
            out.append(
                f"| {name} | {WHAT[name]} | {r['command']} | {r['median']:.3f} | "
                f"{r['mean']:.3f} ± {r['stddev'] or 0:.3f} | {r['min']:.3f}–{r['max']:.3f} | {ratio} |"
            )
    print("\n".join(out))


if __name__ == "__main__":
    main()
