#!/usr/bin/env bash
# Stacks whose declaration or stack config changed between two commits (see lib.sh).
#   scripts/ci/changed-stacks.sh [--json] <base> [<head>=HEAD]
# One name a line, or with --json a JSON array (for a CI matrix).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
json=0
if [[ "${1:-}" == --json ]]; then json=1; shift; fi
mapfile -t stacks < <(changed_stacks "${1:-}" "${2:-HEAD}")
if [[ $json == 1 ]]; then
  node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)) + "\n")' -- "${stacks[@]}"
else
  printf '%s\n' "${stacks[@]}" | sed '/^$/d'
fi
