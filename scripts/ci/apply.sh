#!/usr/bin/env bash
# Merge step: apply only the stacks a push changed, one at a time. Each stack is planned against
# the commit before the push (the change rules re-checked on what was merged; guards need an
# acknowledgement), the plan file pins what was planned, and `tenancy apply --plan` applies
# exactly that or refuses.
#
# Environment:
#   BEFORE          the commit before the push (GitHub: github.event.before; default HEAD~1);
#                   empty or all zeros: every stack is applied as new
#   STACK           apply this stack only (the workflow's matrix runs one job per stack)
#   TENANCY_CI_DIR  where plan files go (default .tenancy/ci)
#   TENANCY_ENGINE_PLAN  1 (default): hold `up` to a saved Pulumi update plan; 0: preview + up
#   TENANCY_ACKNOWLEDGE, commit trailers `Tenancy-Acknowledge: <rule-id>`   acknowledged guards
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (or another secrets provider)
# Exit: 0 when every changed stack applied (or none changed), else non-zero.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BEFORE="${BEFORE-HEAD~1}"
OUT="${TENANCY_CI_DIR:-.tenancy/ci}"
mkdir -p "$OUT"

if [[ -n "${STACK:-}" ]]; then
  stacks=("$STACK")
else
  mapfile -t stacks < <(changed_stacks "$BEFORE" HEAD)
fi
if [[ ${#stacks[@]} -eq 0 ]]; then
  log "no stack changed; nothing to apply"
  exit 0
fi
use_engine
mapfile -t ack < <(acknowledgements "$BEFORE" HEAD)
engine=()
[[ "${TENANCY_ENGINE_PLAN:-1}" == 1 ]] && engine=(--engine)
has_base=0
[[ -n "$BEFORE" && ! "$BEFORE" =~ ^0+$ ]] && git rev-parse --verify --quiet "$BEFORE^{commit}" >/dev/null && has_base=1

status=0
for s in "${stacks[@]}"; do
  if [[ ! -f "stacks/$s/tenancy.yaml" ]]; then
    echo "stack $s was removed from the declarations: tear it down by hand (decommission its workspaces, then pulumi destroy)" >&2
    status=1
    continue
  fi
  base=()
  [[ $has_base == 1 ]] && base=(--base "$BEFORE:stacks/$s/tenancy.yaml")
  log "tenancy plan $s"
  tenancy plan "${base[@]}" --head "stacks/$s/tenancy.yaml" --stack "$s" "${ack[@]}" "${engine[@]}" --out "$OUT/$s.plan.json"
  log "tenancy apply $s"
  tenancy apply --plan "$OUT/$s.plan.json"
done
exit $status
