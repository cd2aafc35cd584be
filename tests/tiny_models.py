"""Tiny random BERT / MPNet models with in-process tokenizers, for fast tests (no downloads)."""

from __future__ import annotations

import os

import torch

WORDS = (
    "the a an of to and in is was it for on with as by at from that this be are or not have has had "
    "weather lovely today sunny outside cat dog sat mat ran park car drove stadium he she they we you "
    "river bank money loan water fish tree green blue red big small fast slow good bad happy sad "
    "law mining permit claim land gold coal rock miner owner court rule right license fee year month day"
).split()


def build_tokenizer(folder: str, lowercase: bool = True):
    """A WordPiece tokenizer over WORDS, saved into folder as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-"]
    vocab = {tok: i for i, tok in enumerate(specials + WORDS + letters + ["##" + c for c in letters])}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = BertTokenizerFast(tokenizer_object=tok, model_max_length=64, do_lower_case=lowercase)
    fast.save_pretrained(folder)
    return fast, len(vocab)


def build_tiny_bert(folder: str, hidden: int = 32, layers: int = 2, seed: int = 0) -> str:
    """Save a random BertModel + tokenizer to folder; return folder."""
    from transformers import BertConfig, BertModel

    os.makedirs(folder, exist_ok=True)
    _, vocab_size = build_tokenizer(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=128,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_mpnet(folder: str, hidden: int = 32, layers: int = 2, seed: int = 0) -> str:
    """Save a random MPNetModel + (BERT-style) tokenizer to folder; return folder."""
    from transformers import MPNetConfig, MPNetModel

    os.makedirs(folder, exist_ok=True)
    _, vocab_size = build_tokenizer(folder)
    torch.manual_seed(seed)
    config = MPNetConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=130,
        pad_token_id=0,
    )
    MPNetModel(config).save_pretrained(folder, safe_serialization=True)
    return folder
