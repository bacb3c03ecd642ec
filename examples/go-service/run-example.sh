#!/usr/bin/env bash
# Runs the go-service pipeline against a throw-away local registry.
#
#   examples/go-service/run-example.sh              # branch pipeline (main)
#   examples/go-service/run-example.sh --tag v1.0.0  # tag pipeline: also `release`
#
# Needs: go (Debian's golang-go is fine), docker-registry, git; GANTRY=/path/to/gantry
# (default: target/release/gantry, else target/debug/gantry). EXAMPLE_KEEP=1 keeps the temp dir.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
GANTRY=${GANTRY:-}
if [ -z "$GANTRY" ]; then
  for c in "$root/target/release/gantry" "$root/target/debug/gantry"; do
    [ -x "$c" ] && GANTRY=$c && break
  done
fi
[ -x "${GANTRY:-}" ] || { echo "build gantry first: cargo build --release -p gantry-cli" >&2; exit 1; }

tmp=$(mktemp -d)
reg_pid=""
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  if [ "${EXAMPLE_KEEP:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/registry"
cat > "$tmp/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $tmp/registry}}
http: {addr: 127.0.0.1:$port}
EOF
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done

repo=$tmp/repo
mkdir -p "$repo"
cp -r "$here/." "$repo/"
rm -f "$repo/run-example.sh"
export GIT_AUTHOR_NAME=Example GIT_AUTHOR_EMAIL=example@example.com
export GIT_COMMITTER_NAME=Example GIT_COMMITTER_EMAIL=example@example.com
export GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" commit -q -m "go-service"
git -C "$repo" remote add origin git@gitlab.example.com:examples/go-service.git
git -C "$repo" update-ref refs/remotes/origin/main main
git -C "$repo" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
if [ "${1:-}" = "--tag" ]; then git -C "$repo" tag -a "$2" -m "release $2"; fi

export GANTRY_IMAGE_STORE=$tmp/store
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
PATH="$(dirname "$GANTRY"):$PATH" "$GANTRY" run -C "$repo" --registry "127.0.0.1:$port" "$@"
echo
echo "tags in 127.0.0.1:$port/examples/go-service:"
curl -s "http://127.0.0.1:$port/v2/examples/go-service/tags/list"; echo
