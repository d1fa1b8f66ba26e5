#!/usr/bin/env bash
# moto's server mode, for test/e2e/audit-aws.test.ts (an AWS API on the loopback; no AWS account
# or network needed). From PyPI, pinned; a no-op when that version is already installed.
set -euo pipefail
MOTO_VERSION=5.2.1
if python3 -c "import moto, sys; sys.exit(0 if moto.__version__ == '${MOTO_VERSION}' else 1)" 2>/dev/null && command -v moto_server >/dev/null; then
  exit 0
fi
python3 -m pip install --quiet "moto[server]==${MOTO_VERSION}"
command -v moto_server >/dev/null || { echo "moto_server is not on PATH after installing moto[server]==${MOTO_VERSION}" >&2; exit 1; }
