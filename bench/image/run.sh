#!/usr/bin/env bash
# bench/image/run.sh — `gantry image` against `docker build` (legacy and BuildKit),
# `buildah bud` and skopeo, on the same Dockerfiles and the same local base image.
#
#   bench/image/run.sh            # everything that is installed; appends to bench/RESULTS.md
#   BENCH_RUNS=5 bench/image/run.sh
#   BENCH_NO_APPEND=1 bench/image/run.sh   # print the table only
#
# Needs: hyperfine, docker-registry, skopeo, python3; optional: buildah, a Docker daemon
# (`docker info` answers; Debian's /usr/bin/docker for BuildKit). GANTRY=/path/to/gantry
# (default target/release/gantry, built when missing).
#
# Setup (not timed): a local registry on 127.0.0.1, a busybox base image (Debian's
# busybox-static, one symlink per applet) built FROM scratch by gantry and pushed there, then
# pulled into every tool's own storage, so each tool starts from a local base image.
#
# Timed, hyperfine (-N where possible; --prepare where a run needs a fresh state):
#   build-cold      FROM base; RUN; COPY; RUN — with each tool's --no-cache (base kept)
#   build-first     gantry only: as build-cold, with its unpacked base and layer dirs removed
#   build-cached    the same build again (all steps cached)
#   build-changed   after changing the copied file (one COPY and the RUN after it rebuilt)
#   push-new        a 20 MB single-layer image from an OCI layout to a new repository (the
#                   registry has the blob elsewhere: both tools mount it from there)
#   push-upload     a fresh 20 MB layer every run: a real upload
#   push-again      the same push to a repository that has everything (HEAD hits only)
#   copy-mount      registry to another repository of the same registry (blobs mounted)
#   retag           a new tag for an existing image (gantry image tag / skopeo copy)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUNS=${BENCH_RUNS:-10}
GANTRY=${GANTRY:-$ROOT/target/release/gantry}
if [ ! -x "$GANTRY" ]; then
  (cd "$ROOT" && cargo build --release -p gantry-cli)
fi
for t in hyperfine docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "bench/image: $t is required" >&2; exit 1; }
done
HAVE_DOCKER=0
if docker info >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then HAVE_DOCKER=1; fi
HAVE_BUILDAH=0
command -v buildah >/dev/null && HAVE_BUILDAH=1

T=$(mktemp -d /tmp/gantry-image-bench.XXXXXX)
REG_PID=""
BUILDAH="buildah --root $T/buildah/root --runroot $T/buildah/run --storage-driver overlay"
cleanup() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
  if [ "$HAVE_BUILDAH" = 1 ]; then
    $BUILDAH rm --all >/dev/null 2>&1 || true
    $BUILDAH rmi --all --force >/dev/null 2>&1 || true
  fi
  if [ "$HAVE_DOCKER" = 1 ]; then
    docker image ls -q --filter "reference=gantry-bench/*" | xargs -r docker rmi -f >/dev/null 2>&1 || true
    docker rmi -f "$BASE" >/dev/null 2>&1 || true
    # The legacy builder's intermediate images this run left behind (none of anyone else's).
    docker images -aq -f dangling=true 2>/dev/null | sort > "$T/dangling-after" || true
    comm -13 "$T/dangling-before" "$T/dangling-after" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT

export GANTRY_IMAGE_STORE=$T/store HOME=$T/home NO_COLOR=1
if [ "$HAVE_DOCKER" = 1 ]; then docker images -aq -f dangling=true | sort > "$T/dangling-before"; fi
mkdir -p "$HOME" "$T/results"

# --- registry -------------------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/registry"
cat > "$T/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $T/registry}}
http: {addr: 127.0.0.1:$PORT}
EOF
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.05; done
REG=127.0.0.1:$PORT
BASE=$REG/gantry-bench/busybox:1

# --- base image: busybox rootfs, FROM scratch, built and pushed by gantry ----------------------
BB=$(command -v busybox)
mkdir -p "$T/base/rootfs/bin" "$T/base/rootfs/etc" "$T/base/rootfs/tmp"
cp "$BB" "$T/base/rootfs/bin/busybox"
for a in $("$BB" --list); do [ "$a" = busybox ] || ln -sf busybox "$T/base/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$T/base/rootfs/etc/passwd"
echo 'root:x:0:' > "$T/base/rootfs/etc/group"
chmod 1777 "$T/base/rootfs/tmp"
printf 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh"]\n' > "$T/base/Dockerfile"
"$GANTRY" image build -q -t "$BASE" --push "$T/base" >/dev/null
[ "$HAVE_DOCKER" = 1 ] && docker pull -q "$BASE" >/dev/null
[ "$HAVE_BUILDAH" = 1 ] && $BUILDAH pull -q --tls-verify=false "$BASE" >/dev/null

# --- the build context ----------------------------------------------------------------------
mkdir -p "$T/ctx"
printf 'FROM %s\nRUN echo hi > /a\nCOPY f /f\nRUN cat /f > /g\n' "$BASE" > "$T/ctx/Dockerfile"
echo data > "$T/ctx/f"

G_BUILD="$GANTRY image build -q -t gantry-bench/app:g $T/ctx"
D_LEGACY="env DOCKER_BUILDKIT=0 /usr/bin/docker build -q -t gantry-bench/app:legacy $T/ctx"
D_BK="env DOCKER_BUILDKIT=1 /usr/bin/docker build -q -t gantry-bench/app:bk $T/ctx"
B_BUD="$BUILDAH bud -q --layers --isolation chroot --tls-verify=false -t gantry-bench/app:b $T/ctx"

declare -a NAMES=() CMDS=()
add() { NAMES+=("$1"); CMDS+=("$2"); }

bench() { # bench NAME PREPARE(-) then tool/command pairs via NAMES/CMDS
  local name=$1 prepare=$2
  local args=(--warmup 1 --runs "$RUNS" --export-json "$T/results/$name.json" --style basic)
  [ "$prepare" != "-" ] && args+=(--prepare "$prepare")
  for i in "${!NAMES[@]}"; do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
  echo "== $name" >&2
  hyperfine "${args[@]}" >&2
  NAMES=(); CMDS=()
}

builders() { # builders SUFFIX: add the four build commands with extra flags
  add gantry "$G_BUILD $1"
  if [ "$HAVE_DOCKER" = 1 ]; then
    add "docker-legacy" "${D_LEGACY/build -q/build -q $1}"
    add "docker-buildkit" "${D_BK/build -q/build -q $1}"
  fi
  [ "$HAVE_BUILDAH" = 1 ] && add buildah "${B_BUD/bud -q/bud -q $1}"
  return 0
}

builders --no-cache;  bench build-cold -
# gantry alone, with nothing derived from the base on disk yet (base unpacked during the run).
add gantry "$G_BUILD --no-cache"
bench build-first "rm -rf $T/store/build-cache $T/store/layers $T/store/rootfs $T/store/index $T/store/tmp"
builders "";          bench build-cached -
builders "";          bench build-changed "date +%s%N > $T/ctx/f"

# --- push / copy / retag --------------------------------------------------------------------
mkdir -p "$T/big"
python3 -c 'import random,sys; r=random.Random(1); sys.stdout.buffer.write(r.randbytes(20*1024*1024))' > "$T/big/data.bin"
printf 'FROM scratch\nCOPY data.bin /data.bin\n' > "$T/big/Dockerfile"
"$GANTRY" image build -q -t gantry-bench/big:1 "$T/big" >/dev/null
"$GANTRY" image copy local:gantry-bench/big:1 "oci:$T/big-oci:1" 2>/dev/null >/dev/null
echo 0 > "$T/n"
NEXT="n=\$(( \$(cat $T/n) + 1 )); echo \$n > $T/n"

add gantry "sh -c '$GANTRY image copy oci:$T/big-oci:1 docker://$REG/bench/g-\$(cat $T/n):1 2>/dev/null'"
add skopeo "sh -c 'skopeo copy -q --dest-tls-verify=false oci:$T/big-oci:1 docker://$REG/bench/s-\$(cat $T/n):1'"
bench push-new "$NEXT"

# A fresh 20 MB layer for every run: a real upload for both tools.
cat > "$T/fresh.sh" <<EOF
set -e
python3 -c 'import os,sys; sys.stdout.buffer.write(os.urandom(20*1024*1024))' > "$T/big/data.bin"
"$GANTRY" image build -q -t gantry-bench/fresh:1 "$T/big" >/dev/null
rm -rf "$T/fresh-oci"
"$GANTRY" image copy local:gantry-bench/fresh:1 "oci:$T/fresh-oci:1" >/dev/null 2>&1
EOF
add gantry "$GANTRY image copy oci:$T/fresh-oci:1 docker://$REG/bench/up:1"
add skopeo "skopeo copy -q --dest-tls-verify=false oci:$T/fresh-oci:1 docker://$REG/bench/up:1"
bench push-upload "sh $T/fresh.sh"

"$GANTRY" image copy "oci:$T/big-oci:1" "docker://$REG/bench/src:1" 2>/dev/null >/dev/null
add gantry "$GANTRY image copy oci:$T/big-oci:1 docker://$REG/bench/src:1"
add skopeo "skopeo copy -q --dest-tls-verify=false oci:$T/big-oci:1 docker://$REG/bench/src:1"
bench push-again -

add gantry "sh -c '$GANTRY image copy docker://$REG/bench/src:1 docker://$REG/bench/gm-\$(cat $T/n):1 2>/dev/null'"
add skopeo "sh -c 'skopeo copy -q --src-tls-verify=false --dest-tls-verify=false docker://$REG/bench/src:1 docker://$REG/bench/sm-\$(cat $T/n):1'"
bench copy-mount "$NEXT"

add gantry "sh -c '$GANTRY image tag $REG/bench/src:1 g\$(cat $T/n) 2>/dev/null'"
add skopeo "sh -c 'skopeo copy -q --src-tls-verify=false --dest-tls-verify=false docker://$REG/bench/src:1 docker://$REG/bench/src:s\$(cat $T/n)'"
bench retag "$NEXT"

# --- report ---------------------------------------------------------------------------------
VERSIONS="gantry $("$GANTRY" --version | awk '{print $2}') ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
VERSIONS+=", $(skopeo --version)"
[ "$HAVE_BUILDAH" = 1 ] && VERSIONS+=", $(buildah --version | cut -d' ' -f1-3)"
[ "$HAVE_DOCKER" = 1 ] && VERSIONS+=", Docker $(/usr/bin/docker version --format '{{.Server.Version}}')"
VERSIONS+=", $(hyperfine --version)"
python3 "$HERE/report.py" "$T/results" "$VERSIONS" "$RUNS" > "$T/section.md"
cat "$T/section.md"
if [ "${BENCH_NO_APPEND:-}" != 1 ]; then
  { echo; cat "$T/section.md"; } >> "$ROOT/bench/RESULTS.md"
  mkdir -p "$ROOT/bench/results"
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  for f in "$T"/results/*.json; do cp "$f" "$ROOT/bench/results/$stamp-image-$(basename "$f")"; done
fi
