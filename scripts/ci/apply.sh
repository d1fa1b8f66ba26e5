#!/usr/bin/env bash
# Merge step: apply the plan that was reviewed on the pull request, never a new one. Run it on
# the merged commit with the pull request's plan artifact (plan.sh's output directory) unpacked
# into TENANCY_PLAN_DIR. It refuses, before touching any stack, when:
#   - the artifact is missing, or was planned for another head than the merged pull request's;
#   - the pull request changed code (no engine plan was made: pull-request code gets no secrets);
#   - a stack the merge changed has no reviewed plan (removed, or never planned);
#   - the merged commit's tree is not the reviewed one (the commit the plan ran on with the pull
#     request's stacks/ over it): main moved under the pull request, re-plan;
# and writes the reason to $TENANCY_CI_DIR/apply-comment.md for the pull request. Otherwise each
# changed stack gets `tenancy apply --plan`, run in that rebuilt reviewed tree, which applies
# exactly the reviewed engine plan or nothing, with the acknowledgements recorded in it. Stacks run in parallel (bounded), and an
# apply that finds its stack locked by another one waits for the lock (bounded) instead of being
# dropped: one apply per stack at a time, queued ones kept.
#
# Environment:
#   TENANCY_PLAN_DIR      the reviewed artifact (meta.json, plans/<stack>.plan.json)
#   REVIEWED_HEAD         the merged pull request's head commit (the lookup step found it)
#   TENANCY_REVIEWED_REFUSED  why the lookup found no plan (shown in the refusal)
#   BEFORE                the commit before the merge (default HEAD^1); empty or zeros: none
#   TENANCY_CI_DIR        where logs and apply-comment.md go (default .tenancy/ci)
#   TENANCY_APPLY_PARALLEL  stacks applied at once (default 2)
#   TENANCY_LOCK_WAIT     seconds an apply waits for its stack's lock (default 1800)
#   TENANCY_LOCK_POLL     seconds between tries (default 15)
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (or another secrets provider)
# Exit: 0 when every changed stack applied (or none changed); 1 refused or failed; 2 setup error.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

OUT="${TENANCY_CI_DIR:-.tenancy/ci}"
mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT/apply-comment.md"
PLAN_DIR="${TENANCY_PLAN_DIR:-}"
[[ -n "$PLAN_DIR" && -d "$PLAN_DIR" ]] && PLAN_DIR="$(cd "$PLAN_DIR" && pwd)"
BEFORE="${BEFORE-$(git rev-parse --verify --quiet HEAD^1)}"
merged="$(git rev-parse HEAD)"

refuse() {
  echo "tenancy apply refused: $1" >&2
  {
    echo "<!-- tenancy-apply-comment -->"
    echo "### tenancy apply refused for \`${merged:0:12}\`${TENANCY_RUN_URL:+ · [pipeline run]($TENANCY_RUN_URL)}"
    echo
    echo "$1"
    echo
    echo "Nothing was applied. Re-plan: push to a new pull request (or re-run its plan) so the change is reviewed as it now is, then merge that."
  } >"$OUT/apply-comment.md"
  exit 1
}

mapfile -t stacks < <(changed_stacks "$BEFORE" HEAD)
if [[ ${#stacks[@]} -eq 0 ]]; then
  log "no stack changed; nothing to apply"
  exit 0
fi
log "stacks changed by $merged: ${stacks[*]}"

[[ -n "$PLAN_DIR" && -f "$PLAN_DIR/meta.json" ]] ||
  refuse "no reviewed plan was found for this merge (${TENANCY_REVIEWED_REFUSED:-no plan artifact}; stacks changed: ${stacks[*]}). Declarations reach main only through a pull request whose plan ran."
meta() { node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = m[process.argv[2]]; process.stdout.write(Array.isArray(v) ? v.join(" ") : String(v ?? ""))' "$PLAN_DIR/meta.json" "$1"; }
planned_head="$(meta headSha)"
[[ -n "${REVIEWED_HEAD:-}" ]] || refuse "the merged pull request's head commit is unknown (REVIEWED_HEAD)"
[[ "$planned_head" == "$REVIEWED_HEAD" ]] ||
  refuse "the reviewed plan is for head \`${planned_head:0:12}\`, but the merged pull request's head is \`${REVIEWED_HEAD:0:12}\`: the last push was not planned."
[[ "$(meta engine)" != code-changed ]] ||
  refuse "the pull request changed code outside \`stacks/\`, so it was planned without secrets and without an engine plan. Land code and declaration changes in separate pull requests."

# The reviewed tree, rebuilt: the commit the plan ran on with the pull request's stacks/ written
# over it, as plan.sh did. The merged commit must be exactly that tree (anything that moved on
# main since, code or declarations, means re-plan), and the apply runs in it, so the plan file's
# commit, code and declaration checks see what they saw at plan time.
for s in "${stacks[@]}"; do
  [[ "$s" =~ ^[A-Za-z0-9._-]+$ ]] || refuse "a directory under \`stacks/\` is not a valid stack name."
  [[ -f "stacks/$s/tenancy.yaml" ]] ||
    refuse "stack \`$s\` was removed from the declarations: tear it down by hand (decommission its workspaces, apply, then pulumi destroy)."
  [[ -f "$PLAN_DIR/plans/$s.plan.json" ]] ||
    refuse "stack \`$s\` changed, but the reviewed plan has no engine plan for it (its plan failed or it was not changed in the pull request)."
done
planned_at="$(meta plannedAt)"
fork="$(meta forkPoint)"
for c in "$planned_at" "$fork" "$planned_head"; do
  git cat-file -e "$c^{commit}" 2>/dev/null || refuse "commit \`${c:0:12}\` of the reviewed plan is not in this repository (fetch-depth 0?)."
done
reviewed="$(mktemp -d)/reviewed"
git worktree add -q --detach "$reviewed" "$planned_at" || exit 2
trap 'git worktree remove --force "$reviewed" >/dev/null 2>&1' EXIT
reviewed_tree="$(cd "$reviewed" && overlay_stacks "$fork" "$planned_head" && git add -A . && git write-tree)" || exit 2
if [[ "$reviewed_tree" != "$(git rev-parse "HEAD^{tree}")" ]]; then
  moved="$(git diff --name-only "$reviewed_tree" HEAD | grep -E '^[A-Za-z0-9._/-]{1,200}$' | head -5 | sed 's/.*/`&`/' | tr '\n' ' ')"
  refuse "the merged commit is not the tree that was reviewed (planned at \`${planned_at:0:12}\` with the head \`${planned_head:0:12}\`); these differ: ${moved}(main changed after the plan, or the merge did)."
fi
# What \`npm ci\` made here, for the program and the CLI; untracked, so no digest sees them.
for d in node_modules dist; do
  [[ -e "$TENANCY_ROOT/$d" && ! -e "$reviewed/$d" ]] && ln -s "$TENANCY_ROOT/$d" "$reviewed/$d"
done

use_engine || exit 2
parallel="${TENANCY_APPLY_PARALLEL:-2}"
wait_max="${TENANCY_LOCK_WAIT:-1800}"
poll="${TENANCY_LOCK_POLL:-15}"

# One stack: apply; while its lock is held by another apply, wait and try again (the lock is
# taken before any step, so a locked try changed nothing).
apply_stack() {
  local s="$1" started=$SECONDS code
  while :; do
    ( cd "$reviewed" && tenancy apply --plan "$PLAN_DIR/plans/$s.plan.json" ) >"$OUT/apply-$s.out" 2>"$OUT/apply-$s.err"
    code=$?
    if [[ $code -ne 0 ]] && grep -q "currently locked" "$OUT/apply-$s.err" && (( SECONDS - started < wait_max )); then
      log "stack $s is locked by another apply; waiting ${poll}s ($(( SECONDS - started ))s of ${wait_max}s)"
      sleep "$poll"
      continue
    fi
    echo "$code" >"$OUT/apply-$s.exit"
    cat "$OUT/apply-$s.out"
    [[ $code -eq 0 ]] || { echo "stack $s: $(grep '^tenancy:' "$OUT/apply-$s.err" | tail -1)" >&2; }
    return "$code"
  done
}

running=0
for s in "${stacks[@]}"; do
  if (( running >= parallel )); then wait -n; running=$((running - 1)); fi
  log "tenancy apply --plan plans/$s.plan.json"
  apply_stack "$s" &
  running=$((running + 1))
done
wait

status=0
for s in "${stacks[@]}"; do
  code="$(cat "$OUT/apply-$s.exit" 2>/dev/null || echo 2)"
  [[ "$code" == 0 ]] || status=1
done
if [[ $status -ne 0 ]]; then
  {
    echo "<!-- tenancy-apply-comment -->"
    echo "### tenancy apply failed for \`${merged:0:12}\`${TENANCY_RUN_URL:+ · [pipeline run]($TENANCY_RUN_URL)}"
    echo
    for s in "${stacks[@]}"; do
      code="$(cat "$OUT/apply-$s.exit" 2>/dev/null || echo 2)"
      if [[ "$code" == 0 ]]; then echo "- \`$s\`: applied"; else echo "- \`$s\`: not applied (exit $code); see the run's log"; fi
    done
  } >"$OUT/apply-comment.md"
fi
exit $status
