#!/usr/bin/env bash
# Set up (first run only) and open the question page on the bundled corpus: ./run-app.sh [streamlit options]
# Creates .venv/, installs requirements.txt, brings index/ up to date with corpus/ (only changed articles
# are re-embedded), then serves the page on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh requirements.txt
.venv/bin/python -m ingest
exec .venv/bin/python -m streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"
