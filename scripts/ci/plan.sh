#!/usr/bin/env bash
# Pull-request step: validate, `tenancy plan` (markdown for the comment, JSON), and for each
# changed stack the engine plan (`tenancy plan --out plans/<stack>.plan.json --engine`: the
# policy-pack preview, saved as the artifact the merge applies). Writes everything to
# $TENANCY_CI_DIR, the comment body included (comment.md); posting it is the commenting job's.
#
# Trust split. Run it from a checkout of the BASE branch with HEAD_SHA set to the pull request's
# head: the head's stacks/ are written over the work tree as data (overlay_stacks) and nothing
# else of the head is run. When the change touches anything outside stacks/ (or puts a symlink
# or submodule there), every secret variable is unset before any process starts, the engine
# plan is skipped and the comment says why. (Until the change is classified, the secrets are
# held out of the environment, so no process started before sees them either.) A stack missing from the backend is an error,
# never created. Without HEAD_SHA the work tree itself is the change (a run by hand).
#
# Environment:
#   BASE_REF              the base branch's commit or ref (default origin/main)
#   HEAD_SHA              the pull request's head commit (default: the work tree is the change)
#   TENANCY_CI_DIR        where outputs go (default .tenancy/ci)
#   TENANCY_PREVIEW       1 (default): the engine plan per changed stack; 0: skip
#   TENANCY_LABELS, TENANCY_ACKNOWLEDGE   acknowledgements (see lib.sh)
#   TENANCY_ACK_BY        who set each acknowledgement: `<rule>:<workspace>=<login>` words
#   PR_NUMBER, TENANCY_RUN_URL            recorded in meta.json and shown in the comment
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (or another secrets provider)   for the engine
#   TENANCY_COMMENT_DRY_RUN   also copy the comment body to this file
# Exit: 0 when everything passed; otherwise the first failure's code.
set -uo pipefail
# Before any process starts: secrets out of the environment, back only for the engine step.
source "${0%/*}/lib.sh"
hold_secrets

OUT="${TENANCY_CI_DIR:-.tenancy/ci}"
rm -rf "$OUT" && mkdir -p "$OUT/plans"
OUT="$(cd "$OUT" && pwd)"
status=0
fail() { [[ $status -eq 0 ]] && status=$1; }

base="$(git rev-parse --verify --quiet "${BASE_REF:-origin/main}^{commit}")" || { echo "plan.sh: BASE_REF ${BASE_REF:-origin/main} is not a commit" >&2; exit 2; }
head="$(git rev-parse --verify --quiet "${HEAD_SHA:-HEAD}^{commit}")" || { echo "plan.sh: HEAD_SHA ${HEAD_SHA:-} is not a commit (fetch it first)" >&2; exit 2; }
fork="$(fork_point "$base" "$head")"
overlay=0
[[ -n "${HEAD_SHA:-}" && "$head" != "$(git rev-parse HEAD)" ]] && overlay=1

mapfile -t code < <(code_changes "$fork" "$head")
engine=ran
if [[ ${#code[@]} -gt 0 ]]; then
  # Before anything else starts: the base's own code runs from here on, but nothing needs a secret.
  drop_secrets
  engine=code-changed
  log "the change touches code outside stacks/ (${code[0]}${code[1]:+ …}): no secrets, no engine plan"
fi
if [[ $overlay == 1 ]]; then
  log "the head's stacks/ ($head) over the base's work tree ($base), as data"
  overlay_stacks "$fork" "$head"
  plan_base="$base"
else
  plan_base="$fork"
fi
mapfile -t stacks < <(changed_stacks "$fork" "$head")

log "tenancy validate"
tenancy validate stacks/*/tenancy.yaml >"$OUT/validate.txt" 2>&1
echo $? >"$OUT/validate.exit"
fail "$(cat "$OUT/validate.exit")"

cli_features
mapfile -t ack < <(ack_args)
log "tenancy plan --base-ref $plan_base ${ack[*]}"
# The plan gets most of the comment; previews share the rest.
tenancy plan --base-ref "$plan_base" "${ack[@]}" --format markdown --max-chars 48000 >"$OUT/plan.md" 2>"$OUT/plan.err"
echo $? >"$OUT/plan.exit"
fail "$(cat "$OUT/plan.exit")"
tenancy plan --base-ref "$plan_base" "${ack[@]}" --format json >"$OUT/plan.json" 2>/dev/null

if [[ "${TENANCY_PREVIEW:-1}" != 1 ]]; then
  touch "$OUT/preview.disabled"
  [[ $engine == ran ]] && engine=disabled
elif [[ $engine == code-changed ]]; then
  # Declarations changed along with code: nothing reviewed can be applied at the merge.
  [[ ${#stacks[@]} -gt 0 ]] && fail 1
elif [[ ${#stacks[@]} -eq 0 ]]; then
  engine=none
else
  # Declarations only: the engine gets the secrets. No backend (e.g. a fork's pull request,
  # which gets no secrets): the comment says so.
  release_secrets
  use_engine 2>"$OUT/engine.err" || engine=no-backend
  for s in "${stacks[@]}"; do
    [[ -f "stacks/$s/tenancy.yaml" ]] || continue # removed: nothing to plan; the apply refuses it
    if [[ ! "$s" =~ ^[A-Za-z0-9._-]+$ ]]; then fail 1; continue; fi # not a stack name (validate says so)
    if [[ $engine == no-backend ]]; then
      cp "$OUT/engine.err" "$OUT/preview-$s.txt"
      echo skipped >"$OUT/preview-$s.exit"
      fail 2
      continue
    fi
    if ! stack_exists "$s"; then
      echo "stack $s does not exist in the state backend; pull requests never create stacks: create it by hand (pulumi stack init $s), then re-run" >"$OUT/preview-$s.txt"
      echo missing >"$OUT/preview-$s.exit"
      fail 1
      continue
    fi
    from=()
    git cat-file -e "$plan_base:stacks/$s/tenancy.yaml" 2>/dev/null && from=(--base "$plan_base:stacks/$s/tenancy.yaml")
    log "tenancy plan --engine ($s): pulumi preview --policy-pack policies --save-plan"
    tenancy plan "${from[@]}" --head "stacks/$s" --stack "$s" "${ack[@]}" --out "$OUT/plans/$s.plan.json" --engine >/dev/null 2>"$OUT/preview-$s.txt"
    echo $? >"$OUT/preview-$s.exit"
    fail "$(cat "$OUT/preview-$s.exit")"
  done
fi

# What was planned, for the comment and for the apply that must match it.
STACKS="${stacks[*]}" CODE="$(printf '%s\n' "${code[@]}")" ACKS="$(acknowledgements)" ENGINE="$engine" BASE="$base" HEAD="$head" FORK="$fork" AT="$(git rev-parse HEAD)" \
  node -e '
    const e = process.env;
    const by = Object.fromEntries((e.TENANCY_ACK_BY ?? "").split(/\s+/).filter(Boolean).map((w) => w.split("=")));
    const labels = new Set((e.TENANCY_LABELS ?? "").split(/[\s,]+/).filter(Boolean));
    const acknowledgements = (e.ACKS ?? "").split("\n").filter(Boolean).map((ack) => ({
      ack, via: labels.has(`acknowledge:${ack}`) ? "label" : "setting", by: by[ack] ?? null }));
    const meta = {
      version: 1, pr: e.PR_NUMBER ? Number(e.PR_NUMBER) : null, headSha: e.HEAD, baseSha: e.BASE, forkPoint: e.FORK, plannedAt: e.AT,
      runUrl: e.TENANCY_RUN_URL || null, engine: e.ENGINE, codeChanged: (e.CODE ?? "").split("\n").filter(Boolean),
      stacks: (e.STACKS ?? "").split(" ").filter(Boolean), acknowledgements,
      scopedAcknowledgements: e.TENANCY_SCOPED_ACKS === "1", createdAt: new Date().toISOString() };
    process.stdout.write(JSON.stringify(meta, null, 2) + "\n");' >"$OUT/meta.json" || fail 2

node "$TENANCY_ROOT/scripts/ci/comment.mjs" body --dir "$OUT" --out "$OUT/comment.md" || fail $?
if [[ -n "${TENANCY_COMMENT_DRY_RUN:-}" ]]; then
  cp "$OUT/comment.md" "$TENANCY_COMMENT_DRY_RUN"
  log "comment written to $TENANCY_COMMENT_DRY_RUN"
fi
exit $status
