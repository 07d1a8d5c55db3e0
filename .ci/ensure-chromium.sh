#!/usr/bin/env bash
# The browser e2e tests drive a headless Chromium (Debian's package). When it
# is missing, installs it with apt-get (as root); otherwise fails loudly: the
# browser tests are never skipped.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "ensure-chromium: chromium is not installed (Debian package chromium; apt-get install chromium as root)" >&2
exit 1
