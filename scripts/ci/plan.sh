#!/usr/bin/env bash
# Pull-request step: validate, `tenancy plan --base-ref`, and `pulumi preview --policy-pack
# policies` for each changed stack; then one comment on the pull request, updated in place.
#
# Environment:
#   BASE_REF                  what the change is compared with (default origin/main)
#   TENANCY_CI_DIR            where outputs go (default .tenancy/ci)
#   TENANCY_PREVIEW           1 (default): run the engine preview per changed stack; 0: skip
#   TENANCY_ACKNOWLEDGE, TENANCY_LABELS   acknowledged guards (see lib.sh); commit trailers too
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (or another secrets provider)   for the preview
#   TENANCY_COMMENT_DRY_RUN   write the comment body to this file instead of posting it
#   GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER (GITHUB_API_URL)   to post the comment
# Exit: 0 when everything passed; otherwise the first failure's code (after the comment is posted).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

BASE_REF="${BASE_REF:-origin/main}"
OUT="${TENANCY_CI_DIR:-.tenancy/ci}"
rm -rf "$OUT" && mkdir -p "$OUT"
status=0
fail() { [[ $status -eq 0 ]] && status=$1; }

log "tenancy validate"
tenancy validate stacks/*/tenancy.yaml >"$OUT/validate.txt" 2>&1
echo $? >"$OUT/validate.exit"
fail "$(cat "$OUT/validate.exit")"

mapfile -t ack < <(acknowledgements "$BASE_REF" HEAD)
log "tenancy plan --base-ref $BASE_REF ${ack[*]}"
# The plan gets most of the comment; previews share the rest.
tenancy plan --base-ref "$BASE_REF" "${ack[@]}" --format markdown --max-chars 48000 >"$OUT/plan.md" 2>"$OUT/plan.err"
echo $? >"$OUT/plan.exit"
fail "$(cat "$OUT/plan.exit")"
tenancy plan --base-ref "$BASE_REF" "${ack[@]}" --format json >"$OUT/plan.json" 2>/dev/null

if [[ "${TENANCY_PREVIEW:-1}" != 1 ]]; then
  touch "$OUT/preview.disabled"
else
  mapfile -t stacks < <(changed_stacks "$BASE_REF" HEAD)
  engine=1
  if [[ ${#stacks[@]} -gt 0 ]]; then
    # No backend (e.g. a pull request from a fork, which gets no secrets): the comment says so.
    use_engine 2>"$OUT/engine.err" || engine=0
  fi
  for s in "${stacks[@]}"; do
    [[ -f "stacks/$s/tenancy.yaml" ]] || continue # removed: nothing to preview
    if [[ $engine == 0 ]]; then
      cp "$OUT/engine.err" "$OUT/preview-$s.txt"
      echo skipped >"$OUT/preview-$s.exit"
      fail 2
      continue
    fi
    log "pulumi preview --policy-pack policies ($s)"
    # `--create`: a stack new in this pull request gets its (empty) state, so it can be previewed.
    { pulumi stack select --create --non-interactive "$s" &&
      pulumi preview --stack "$s" --policy-pack policies --non-interactive --color never; } >"$OUT/preview-$s.txt" 2>&1
    echo $? >"$OUT/preview-$s.exit"
    fail "$(cat "$OUT/preview-$s.exit")"
  done
fi

node "$TENANCY_ROOT/scripts/ci/comment.mjs" body --dir "$OUT" --out "$OUT/comment.md" || fail $?
if [[ -n "${TENANCY_COMMENT_DRY_RUN:-}" ]]; then
  cp "$OUT/comment.md" "$TENANCY_COMMENT_DRY_RUN"
  log "comment written to $TENANCY_COMMENT_DRY_RUN (dry run)"
else
  node "$TENANCY_ROOT/scripts/ci/comment.mjs" post --body "$OUT/comment.md" || fail $?
fi
exit $status
