"""Vector indexes of embedded texts: build, add, search, save and load (``VectorIndex``)."""

from .corpus import CorpusRows, read_corpus
from .manifest import IndexManifest
from .model_identity import ModelIdentity
from .vector_index import EXACT_SEARCH_LIMIT, SearchHits, VectorIndex

__all__ = ["EXACT_SEARCH_LIMIT", "CorpusRows", "IndexManifest", "ModelIdentity", "SearchHits", "VectorIndex",
           "read_corpus"]
