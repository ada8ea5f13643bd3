#!/usr/bin/env bash
# Set up (first run only) and run every test: ./run-tests.sh [pytest options]
# Creates .venv/, installs requirements-dev.txt and Debian's chromium (for the browser test), runs the unit,
# integration and browser tests, then the retrieval-quality gate (evaluation/thresholds.json).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
.venv/bin/python -m pytest -q "$@"
.venv/bin/python -m evaluation.gate
