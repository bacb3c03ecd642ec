#!/usr/bin/env bash
# Runs the demo pipeline with Gantry in a throw-away git repository.
#
# Usage: examples/demo/run-demo.sh [gantry run arguments...]
#   examples/demo/run-demo.sh                  # a pipeline for branch main
#   examples/demo/run-demo.sh --tag v1.0.0     # a tag pipeline (the tag is created first)
#
# Needs bash, git and a built gantry: $GANTRY, else target/release/gantry, target/debug/gantry
# or `gantry` on PATH (build: cargo build --release -p gantry-cli).
# Set DEMO_KEEP=1 to keep the temporary repository afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

gantry=${GANTRY:-}
if [ -z "$gantry" ]; then
  for candidate in "$target/release/gantry" "$target/debug/gantry"; do
    if [ -x "$candidate" ]; then
      gantry=$candidate
      break
    fi
  done
fi
if [ -z "$gantry" ]; then
  gantry=$(command -v gantry || true)
fi
if [ -z "$gantry" ]; then
  echo "run-demo: no gantry binary; build it with: cargo build --release -p gantry-cli" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gantry-demo.XXXXXX")
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "run-demo: keeping $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

# The project: everything in this directory except this script.
tar -C "$here" --exclude=./run-demo.sh -cf - . | tar -C "$tmp" -xf -

# A committed repository with a fake origin and origin/HEAD, as a GitLab clone has.
git_() {
  git -C "$tmp" -c user.name="Gantry Demo" -c user.email=demo@example.com \
    -c commit.gpgsign=false -c tag.gpgsign=false "$@"
}
git_ init -q -b main
git_ add -A
git_ commit -q -m "Demo project"
git_ remote add origin git@gitlab.example.com:demo/hello.git
git_ update-ref refs/remotes/origin/main refs/heads/main
git_ symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main

# `--tag NAME` / `--tag=NAME`: create the tag so the pipeline's commit carries it.
prev=""
for arg in "$@"; do
  case $arg in
    --tag=*) git_ tag -a "${arg#--tag=}" -m "Release ${arg#--tag=}" ;;
  esac
  if [ "$prev" = --tag ]; then git_ tag -a "$arg" -m "Release $arg"; fi
  prev=$arg
done

echo "run-demo: $gantry run -C $tmp $*" >&2
status=0
"$gantry" run -C "$tmp" "$@" || status=$?
exit "$status"
