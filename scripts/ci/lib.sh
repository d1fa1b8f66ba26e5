# Shared by the scripts in scripts/ci (sourced, not run). Every CI (GitHub Actions, GitLab CI,
# anything with bash, git and node) runs the same steps through these.

# The project root: where Pulumi.yaml and stacks/ live. Builtins only (no process started), so
# a script can source this before it holds its secrets back (hold_secrets).
TENANCY_ROOT="$(cd "${BASH_SOURCE[0]%/*}/../.." && pwd)"
cd "$TENANCY_ROOT" || exit 2

# The compiled CLI, which `npm ci` builds (package.json prepare).
tenancy() { node "$TENANCY_ROOT/dist/cli/tenancy.js" "$@"; }

log() { echo "== $*" >&2; }

# The variables that hold what a pull request's code must never see: the state backend, the
# secrets provider's keys, cloud credentials, CI tokens. TENANCY_SECRET_VARS adds names.
SECRET_VARS=(PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE PULUMI_CONFIG_PASSPHRASE_FILE PULUMI_ACCESS_TOKEN
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AZURE_CLIENT_SECRET AZURE_STORAGE_KEY
  GOOGLE_CREDENTIALS GOOGLE_APPLICATION_CREDENTIALS VAULT_TOKEN GITHUB_TOKEN GH_TOKEN GITLAB_TOKEN
  ACTIONS_RUNTIME_TOKEN ACTIONS_ID_TOKEN_REQUEST_TOKEN ACTIONS_ID_TOKEN_REQUEST_URL PGPASSWORD)
# shellcheck disable=SC2206
SECRET_VARS+=(${TENANCY_SECRET_VARS:-})

# Moves every secret variable out of the environment into this shell's private HELD (not
# exported: no process started afterwards inherits one) until release_secrets hands them to the
# engine step, or drop_secrets forgets them.
declare -A HELD=()
hold_secrets() {
  local v
  for v in "${SECRET_VARS[@]}"; do
    if [[ -n "${!v+x}" ]]; then HELD[$v]="${!v}"; unset "$v"; fi
  done
}
release_secrets() {
  local v
  for v in "${!HELD[@]}"; do export "$v=${HELD[$v]}"; done
}
drop_secrets() {
  HELD=()
  local v
  for v in "${SECRET_VARS[@]}"; do unset "$v"; done
}

# The commit the change forked from (base...head); the base itself when there is no common one.
fork_point() { git merge-base "$1" "$2" 2>/dev/null || echo "$1"; }

# Stacks whose declaration (stacks/<s>/...) or stack config (stacks/Pulumi.<s>.yaml) differ
# between two commits, one name a line, sorted. An empty or all-zero base (a new branch) means
# every stack at the head.
changed_stacks() {
  local base="$1" head="$2"
  if [[ -z "$base" || "$base" =~ ^0+$ ]] || ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    git ls-tree -r --name-only "$head" -- stacks | sed -n 's#^stacks/\([^/]*\)/tenancy\.yaml$#\1#p' | sort -u
    return
  fi
  git diff --name-only --no-renames "$base" "$head" -- stacks |
    sed -n -e 's#^stacks/\([^/]*\)/.*#\1#p' -e 's#^stacks/Pulumi\.\([^/]*\)\.yaml$#\1#p' | sort -u
}

# What a change touches that is not declaration data, one path a line: anything outside
# stacks/, and under stacks/ anything but a regular file (a symlink could make the planner read
# a file of the runner's, a submodule pulls code). Empty: the change is data only.
code_changes() {
  local base="$1" head="$2"
  git diff --raw --no-renames -z "$base" "$head" | node -e '
    const parts = require("fs").readFileSync(0, "utf8").split("\0");
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const mode = parts[i].split(" ")[1];
      const path = parts[i + 1];
      const data = path.startsWith("stacks/") && ["100644", "100755", "000000"].includes(mode);
      if (!data) process.stdout.write(JSON.stringify(path).slice(1, -1) + "\n");
    }'
}

# Puts the head's stacks/ over the work tree (a checkout of the base): every path the change
# touched under stacks/ is written from the head's blob or removed. Data only: nothing of the
# head is run, and code_changes() must be empty before this is called.
overlay_stacks() {
  local base="$1" head="$2" path
  while IFS= read -r -d '' path; do
    if git cat-file -e "$head:$path" 2>/dev/null; then
      mkdir -p "$(dirname "$path")"
      git cat-file blob "$head:$path" >"$path"
    else
      rm -f "$path"
    fi
  done < <(git diff --name-only --no-renames -z "$base" "$head" -- stacks)
}

# Acknowledged guards, scoped to a rule and a workspace (`<rule-id>:<workspace>`), one a line:
# pull-request labels `acknowledge:<rule-id>:<workspace>` in TENANCY_LABELS (space or comma
# separated: GitHub's join, GitLab's CI_MERGE_REQUEST_LABELS), and TENANCY_ACKNOWLEDGE (for a
# run by hand). Commit trailers no longer count: anyone who can push to the branch writes them,
# so they let an author acknowledge their own change, and a squash merge rewrites them; a label
# needs triage rights and its event records who set it.
acknowledgements() {
  {
    tr ', ' '\n\n' <<<"${TENANCY_ACKNOWLEDGE:-}"
    tr ', ' '\n\n' <<<"${TENANCY_LABELS:-}" | sed -n 's/^acknowledge://p'
  } | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -E '^[a-z0-9]+(-[a-z0-9]+)*:[a-z0-9]+(-[a-z0-9]+)*$' | sort -u || true
}

# The `--acknowledge` arguments for the CLI in this tree, one a line. A CLI that knows scoped
# acknowledgements takes `<rule-id>:<workspace>` (and `--acknowledged-by`, given the logins of
# TENANCY_ACK_BY); an older one only the rule id (then the scope is recorded in meta.json but not
# enforced). The CLI's help is asked once per run.
cli_features() {
  [[ -n "${TENANCY_SCOPED_ACKS:-}" ]] && return 0
  local help
  help="$(tenancy plan --help 2>/dev/null)"
  TENANCY_SCOPED_ACKS=0
  grep -Eq 'rule-id>?:<?workspace' <<<"$help" && TENANCY_SCOPED_ACKS=1
  TENANCY_ACK_BY_OPTION=0
  grep -q -- '--acknowledged-by' <<<"$help" && TENANCY_ACK_BY_OPTION=1
  export TENANCY_SCOPED_ACKS TENANCY_ACK_BY_OPTION
}
ack_args() {
  local acks a
  mapfile -t acks < <(acknowledgements)
  [[ ${#acks[@]} -eq 0 ]] && return 0
  cli_features
  for a in "${acks[@]}"; do
    if [[ $TENANCY_SCOPED_ACKS == 1 ]]; then echo "$a"; else echo "${a%%:*}"; fi
  done | sort -u | while read -r a; do printf -- '--acknowledge\n%s\n' "$a"; done
  local by
  by="$(tr ' ' '\n' <<<"${TENANCY_ACK_BY:-}" | sed -n 's/^[^=]*=\([A-Za-z0-9][A-Za-z0-9-]*\(\[bot\]\)\{0,1\}\)$/\1/p' | sort -u | paste -sd, -)"
  if [[ "${TENANCY_ACK_BY_OPTION:-0}" == 1 && -n "$by" ]]; then printf -- '--acknowledged-by\n%s\n' "$by"; fi
}

# The pinned Pulumi engine on PATH (built or fetched on first use), never downloading plugins.
use_engine() {
  eval "$(node "$TENANCY_ROOT/scripts/toolchain/resolve.mjs" --print-env)"
  if [[ -z "${PULUMI_BACKEND_URL:-}" ]]; then
    echo "PULUMI_BACKEND_URL is not set: point it at the state backend (a protected secret in CI)" >&2
    return 2
  fi
}

# True when the stack exists in the backend. Never creates one: pull requests cannot add stacks.
stack_exists() { pulumi stack select "$1" --non-interactive >/dev/null 2>&1; }
