#!/usr/bin/env bash
# Scheduled audit of one stack (.github/workflows/audit.yml): `tenancy audit --stack` once, as SARIF
# for code scanning and (the same snapshot) as markdown for the drift issue, with the stack's exceptions file when
# it has one (stacks/<stack>/audit-exceptions.yaml).
#
# Environment:
#   STACK                  the stack to audit
#   TENANCY_AUDIT_DIR      where the outputs go (default .tenancy/audit): audit.sarif, audit.md,
#                          audit.exit (0 clean, 1 findings, 2 error)
#   TENANCY_AUDIT_FAIL_ON  error or warning (default warning)
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (or another secrets provider): to read the
#                          stack's connection
#   GITHUB_OUTPUT          when set, `category=<the SARIF's automationDetails.id>` is written to it
# Exit: 0 whatever the audit found (audit.exit says it; the workflow fails its last step on it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

: "${STACK:?set STACK to the stack to audit}"
OUT="${TENANCY_AUDIT_DIR:-.tenancy/audit}"
mkdir -p "$OUT"
options=(--stack "$STACK" --fail-on "${TENANCY_AUDIT_FAIL_ON:-warning}")
[[ -f "stacks/$STACK/audit-exceptions.yaml" ]] && options+=(--exceptions "stacks/$STACK/audit-exceptions.yaml")

if ! use_engine; then
  echo 2 > "$OUT/audit.exit"
  exit 0
fi
log "audit $STACK"
code=0
# One audit, one snapshot: the SARIF and the markdown show the same read.
rm -f "$OUT/audit.md"
tenancy audit "${options[@]}" --format sarif --also "markdown=$OUT/audit.md" > "$OUT/audit.sarif" 2> "$OUT/audit.err" || code=$?
if [[ $code -gt 1 ]]; then
  { echo '```text'; sed 's/```/'"'''"'/g' "$OUT/audit.err"; echo '```'; } > "$OUT/audit.md"
  rm -f "$OUT/audit.sarif"
fi
echo "$code" > "$OUT/audit.exit"
cat "$OUT/audit.err" >&2
if [[ -s "$OUT/audit.sarif" && -n "${GITHUB_OUTPUT:-}" ]]; then
  echo "category=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).runs[0].automationDetails.id' "$OUT/audit.sarif")" >> "$GITHUB_OUTPUT"
fi
