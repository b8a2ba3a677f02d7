#!/usr/bin/env bash
# System packages the test suite needs: Debian's Chromium for the browser tests, and
# espeak-ng, which speaks the voice prompts (made from text at first use, never fetched).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing: ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}'" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
