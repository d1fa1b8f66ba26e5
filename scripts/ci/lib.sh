# Shared by scripts/ci/plan.sh and scripts/ci/apply.sh (sourced, not run). Every CI (GitHub
# Actions, GitLab CI, anything with bash, git and node) runs the same steps through these.

# The project root: where Pulumi.yaml and stacks/ live.
TENANCY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$TENANCY_ROOT"

# The compiled CLI, which `npm ci` builds (package.json prepare).
tenancy() { node "$TENANCY_ROOT/dist/cli/tenancy.js" "$@"; }

log() { echo "== $*" >&2; }

# Stacks whose declaration (stacks/<s>/...) or stack config (stacks/Pulumi.<s>.yaml) differ
# between two commits, one name a line, sorted. An empty or all-zero base (a new branch) means
# every stack at the head.
changed_stacks() {
  local base="$1" head="$2"
  if [[ -z "$base" || "$base" =~ ^0+$ ]] || ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    git ls-tree -r --name-only "$head" -- stacks | sed -n 's#^stacks/\([^/]*\)/tenancy\.yaml$#\1#p' | sort -u
    return
  fi
  git diff --name-only "$base" "$head" -- stacks |
    sed -n -e 's#^stacks/\([^/]*\)/.*#\1#p' -e 's#^stacks/Pulumi\.\([^/]*\)\.yaml$#\1#p' | sort -u
}

# Guards acknowledged for this change, as repeated `--acknowledge <id>` arguments (one per line):
# TENANCY_ACKNOWLEDGE (ids, space or comma separated), pull-request labels in TENANCY_LABELS
# (only `acknowledge:<id>` labels count), and `Tenancy-Acknowledge: <id>` commit trailers in
# base..head.
acknowledgements() {
  local base="$1" head="$2"
  {
    tr ', ' '\n\n' <<<"${TENANCY_ACKNOWLEDGE:-}"
    tr ', ' '\n\n' <<<"${TENANCY_LABELS:-}" | sed -n 's/^acknowledge://p'
    if [[ -n "$base" && ! "$base" =~ ^0+$ ]] && git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
      git log --format='%(trailers:key=Tenancy-Acknowledge,valueonly,separator=%x0A)' "$base..$head"
    fi
  } | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -E '^[a-z]+(-[a-z]+)*$' | sort -u |
    while read -r id; do printf -- '--acknowledge\n%s\n' "$id"; done
}

# The pinned Pulumi engine on PATH (built or fetched on first use), never downloading plugins.
use_engine() {
  eval "$(node "$TENANCY_ROOT/scripts/toolchain/resolve.mjs" --print-env)"
  if [[ -z "${PULUMI_BACKEND_URL:-}" ]]; then
    echo "PULUMI_BACKEND_URL is not set: point it at the state backend (a repository secret in CI)" >&2
    return 2
  fi
}
