"""Articles → a versioned, incrementally updated index (``python -m ingest``)."""
