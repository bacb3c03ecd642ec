#!/usr/bin/env bash
# Unit test of the built app: check.sh <app> <expected greeting>
set -euo pipefail
got=$(sh "$1")
if [ "$got" != "$2" ]; then
  echo "FAIL: expected '$2', got '$got'" >&2
  exit 1
fi
echo "PASS: $1 prints '$got'"
