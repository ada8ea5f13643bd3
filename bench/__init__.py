"""Performance benchmark: ingest, warm answers, re-ingest, cold start and ANN scale; ``python -m bench``."""
