#!/usr/bin/env bash
# Whether a change is declaration data only (see lib.sh code_changes), for a CI to decide, before
# any secret is handed out, which job or step runs: `code-changed=true|false` and `stacks=[...]`
# (the changed stacks as JSON), as lines for $GITHUB_OUTPUT or a dotenv report.
#   scripts/ci/classify.sh <base> <head>     (compares head with the fork point of base and head)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
base="$(git rev-parse --verify "${1:?usage: classify.sh <base> <head>}^{commit}")"
head="$(git rev-parse --verify "${2:?usage: classify.sh <base> <head>}^{commit}")"
fork="$(fork_point "$base" "$head")"
if [[ -n "$(code_changes "$fork" "$head")" ]]; then echo "code-changed=true"; else echo "code-changed=false"; fi
mapfile -t stacks < <(changed_stacks "$fork" "$head")
echo "stacks=$(node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "${stacks[@]}")"
