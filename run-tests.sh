#!/usr/bin/env bash
# Set up (first run only) and run every test: ./run-tests.sh [pytest options]
# Creates .venv/, installs requirements-dev.txt and Debian's chromium (for the browser test), runs the unit,
# integration and browser tests, then the retrieval-quality gate (evaluation/thresholds.json).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh requirements-dev.txt
source scripts/chromium.sh
.venv/bin/python -m pytest -q "$@"
.venv/bin/python -m evaluation.gate
