#!/usr/bin/env bash
# Headless Chromium for test/audit/html.test.ts (the HTML report's screenshot), from the
# distribution's packages; a no-op when a Chromium is already on the machine.
set -euo pipefail
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null; then exit 0; fi
done
if ! command -v apt-get >/dev/null; then
  echo "no Chromium and no apt-get: install Chromium and set CHROMIUM to its path" >&2
  exit 1
fi
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || { echo "chromium is not on PATH after apt-get install chromium" >&2; exit 1; }
