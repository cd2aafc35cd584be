"""Drop-in path ``sentforge.sentence_transformer.model_card``: the model card data class."""

from ..card.info import SentenceTransformerModelCardData

__all__ = ["SentenceTransformerModelCardData"]
