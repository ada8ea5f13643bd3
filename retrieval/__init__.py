"""Question → cited verbatim extracts: ``answer(question, load_index(path))``."""
from retrieval.answer import RetrievalSettings, answer
from retrieval.index import Index, IndexMismatch, load_index
from retrieval.query import QuestionError

__all__ = ["Index", "IndexMismatch", "QuestionError", "RetrievalSettings", "answer", "load_index"]
