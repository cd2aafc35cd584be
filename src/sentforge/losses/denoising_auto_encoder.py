"""DenoisingAutoEncoderLoss (TSDAE, Wang et al. 2021): unsupervised training by reconstruction.

The model embeds a damaged sentence (e.g. words deleted); a transformer decoder must rebuild the
original sentence from that single embedding, through cross-attention on it. By default the
decoder is built from the encoder's own checkpoint and shares its weights.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from torch import Tensor, nn

from ..errors import SentforgeError
from .base import BaseLoss

logger = logging.getLogger(__name__)

WANG_TSDAE_CITATION = """
@inproceedings{wang-2021-TSDAE,
    title = "TSDAE: Using Transformer-based Sequential Denoising Auto-Encoderfor Unsupervised Sentence Embedding Learning",
    author = "Wang, Kexin and Reimers, Nils and Gurevych, Iryna",
    booktitle = "Findings of the Association for Computational Linguistics: EMNLP 2021",
    month = nov,
    year = "2021",
    address = "Punta Cana, Dominican Republic",
    publisher = "Association for Computational Linguistics",
    pages = "671--688",
    url = "https://arxiv.org/abs/2104.06979",
}
"""


def tie_encoder_decoder_weights(encoder: nn.Module, decoder: nn.Module) -> None:
    """Make each encoder parameter that the decoder also has (same module path and name) the decoder's."""
    encoder_modules = dict(encoder.named_modules())
    tied = False
    for name, param in decoder.named_parameters():
        module_name, _, attr = name.rpartition(".")
        encoder_module = encoder_modules.get(module_name)
        if encoder_module is not None and hasattr(encoder_module, attr):
            setattr(encoder_module, attr, param)
            tied = True
    if not tied:
        logger.warning("No encoder weights were tied to the decoder; are they the same architecture?")


def encoder_of(model: nn.Module) -> nn.Module:
    """The transformers model inside the SentenceTransformer's first (Transformer) module."""
    first = model[0]
    if not hasattr(first, "auto_model"):
        raise SentforgeError(
            "DenoisingAutoEncoderLoss needs a model whose first module is a Transformer, but it is "
            f"{type(first).__name__}. Build the model from a transformers checkpoint."
        )
    return first.auto_model


class DenoisingAutoEncoderLoss(BaseLoss):
    """(damaged_input, original_input) pairs, no labels; the loss is the decoder's cross-entropy."""

    min_text_columns = 2
    max_text_columns = 2

    def __init__(
        self, model, decoder_name_or_path: str | None = None, tie_encoder_decoder: bool = True
    ) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        self.encoder = model  # the model that is kept after training
        self.tokenizer_encoder = model.tokenizer
        encoder = encoder_of(model)
        encoder_name_or_path = encoder.config._name_or_path
        if decoder_name_or_path is None and not tie_encoder_decoder:
            raise ValueError("Must indicate the decoder_name_or_path argument when tie_encoder_decoder=False!")
        if tie_encoder_decoder:
            if decoder_name_or_path:
                logger.warning("When tie_encoder_decoder=True, the decoder_name_or_path will be invalid.")
            decoder_name_or_path = encoder_name_or_path

        self.tokenizer_decoder = AutoTokenizer.from_pretrained(decoder_name_or_path)
        self.need_retokenization = not isinstance(self.tokenizer_encoder, type(self.tokenizer_decoder))
        decoder_config = AutoConfig.from_pretrained(decoder_name_or_path)
        decoder_config.is_decoder = True
        decoder_config.add_cross_attention = True
        try:
            self.decoder = AutoModelForCausalLM.from_pretrained(decoder_name_or_path, config=decoder_config)
        except ValueError as error:
            raise SentforgeError(
                f"{decoder_name_or_path!r} cannot be loaded as a decoder (it needs a causal-LM head class, "
                f"e.g. BertLMHeadModel): {error}"
            ) from error
        if encoder.config.hidden_size != decoder_config.hidden_size:
            raise ValueError("Hidden sizes do not match!")
        if self.tokenizer_decoder.pad_token is None:  # e.g. GPT-2
            self.tokenizer_decoder.pad_token = self.tokenizer_decoder.eos_token
            self.decoder.config.pad_token_id = self.decoder.config.eos_token_id
        if len(AutoTokenizer.from_pretrained(encoder_name_or_path)) != len(self.tokenizer_encoder):
            logger.warning(
                "WARNING: The vocabulary of the encoder has been changed. One might need to change the decoder "
                "vocabulary, too."
            )
        if tie_encoder_decoder:
            if self.need_retokenization:
                raise ValueError("The tokenizers should be the same when tie_encoder_decoder=True.")
            if len(self.tokenizer_encoder) != len(self.tokenizer_decoder):  # the vocabulary was changed
                self.tokenizer_decoder = self.tokenizer_encoder
                self.decoder.resize_token_embeddings(len(self.tokenizer_decoder))
                logger.warning(
                    "Since the encoder vocabulary has been changed and --tie_encoder_decoder=True, now the new "
                    "vocabulary has also been used for the decoder."
                )
            tie_encoder_decoder_weights(encoder, self.decoder._modules[self.decoder.base_model_prefix])

    def retokenize(self, sentence_features: dict[str, Tensor]) -> dict[str, Tensor]:
        """The encoder-tokenized texts, tokenized again with the decoder's tokenizer."""
        input_ids = sentence_features["input_ids"]
        texts = self.tokenizer_encoder.batch_decode(
            input_ids, skip_special_tokens=True, clean_up_tokenization_spaces=True
        )
        return self.tokenizer_decoder(
            texts, padding=True, truncation="longest_first", return_tensors="pt", max_length=None
        ).to(input_ids.device)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        source_features, target_features = tuple(sentence_features)
        if self.need_retokenization:
            target_features = self.retokenize(target_features)
        reps = self.encoder(source_features)["sentence_embedding"]
        target_length = target_features["input_ids"].shape[1]
        decoder_input_ids = target_features["input_ids"].clone()[:, : target_length - 1]
        label_ids = target_features["input_ids"][:, 1:]
        decoder_outputs = self.decoder(
            input_ids=decoder_input_ids,
            inputs_embeds=None,
            attention_mask=None,
            encoder_hidden_states=reps[:, None],  # the sentence embedding is the decoder's only memory
            encoder_attention_mask=source_features["attention_mask"][:, 0:1],
            labels=None,
            return_dict=None,
            use_cache=False,
        )
        lm_logits = decoder_outputs[0]
        ce_loss_fct = nn.CrossEntropyLoss(ignore_index=self.tokenizer_decoder.pad_token_id)
        return ce_loss_fct(lm_logits.view(-1, lm_logits.shape[-1]), label_ids.reshape(-1))

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "decoder_name_or_path": self.decoder.config._name_or_path,
            "need_retokenization": self.need_retokenization,
        }

    @property
    def citation(self) -> str:
        return WANG_TSDAE_CITATION
