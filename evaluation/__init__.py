"""Measure retrieval: the gold questions (extract hit@k, MRR, abstention, disagreement) and BEIR benchmarks.

``python -m evaluation evaluation/questions.jsonl`` and ``python -m evaluation --beir DIR``; the CI gate is
``python -m evaluation.gate``. See ``evaluation/README_section.md``.
"""
