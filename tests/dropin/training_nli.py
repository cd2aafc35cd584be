"""
The system trains BERT (or any other transformer model like RoBERTa, DistilBERT etc.) on the SNLI + MultiNLI (AllNLI) dataset
with softmax loss function. At every 1000 training steps, the model is evaluated on the
STS benchmark dataset

Usage:
python training_nli.py

OR
python training_nli.py pretrained_transformer_model_name

(sentence-transformers' examples/sentence_transformer/training/nli/training_nli.py, v3-v5, with
`sentence_transformers` imports changed to `sentforge`; lines marked "local:" point it at
../shared/data and a small budget. The local pair-class set has entailment (0) and contradiction (2)
pairs built from the NLI triplets; it has no neutral (1) pairs.)
"""

import logging
import os  # local: for the budget knobs
import sys
import traceback
from datetime import datetime

from local_data import load_local  # local: stands in for datasets.load_dataset on Hub ids

from sentforge import SentenceTransformer, losses
from sentforge.evaluation import EmbeddingSimilarityEvaluator
from sentforge.similarity_functions import SimilarityFunction
from sentforge.trainer import SentenceTransformerTrainer
from sentforge.training_args import SentenceTransformerTrainingArguments

# Set the log level to INFO to get more information
logging.basicConfig(format="%(asctime)s - %(message)s", datefmt="%Y-%m-%d %H:%M:%S", level=logging.INFO)

# You can specify any Hugging Face pre-trained model here, for example, bert-base-uncased, roberta-base, xlm-roberta-base
model_name = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DROPIN_MODEL", "sentence-transformers/all-MiniLM-L6-v2")  # local: was bert-base-uncased
train_batch_size = int(os.environ.get("DROPIN_BATCH_SIZE", 16))  # local: DROPIN_BATCH_SIZE
max_steps = int(os.environ.get("DROPIN_MAX_STEPS", 10))  # local: a small budget

output_dir = os.environ.get("DROPIN_OUTPUT_DIR") or (  # local: DROPIN_OUTPUT_DIR
    "output/training_nli_" + model_name.replace("/", "-") + "-" + datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
)


# 1. Here we define our SentenceTransformer model. If not already a Sentence Transformer model, it will automatically
# create one with "mean" pooling.
model = SentenceTransformer(model_name)

# 2. Load the AllNLI dataset: https://huggingface.co/datasets/sentence-transformers/all-nli
# We'll start with 10k training samples, but you can increase this to get a stronger model
logging.info("Read AllNLI train dataset")
train_dataset = load_local("sentence-transformers/all-nli", "pair-class", split="train")
train_dataset = train_dataset.select(range(min(10000, len(train_dataset))))  # local: min() for the capped set
eval_dataset = load_local("sentence-transformers/all-nli", "pair-class", split="dev")
eval_dataset = eval_dataset.select(range(min(1000, len(eval_dataset))))  # local: min() for the capped set
logging.info(train_dataset)

# 3. Define our training loss: https://sbert.net/docs/package_reference/sentence_transformer/losses.html#softmaxloss
train_loss = losses.SoftmaxLoss(
    model=model,
    sentence_embedding_dimension=model.get_sentence_embedding_dimension(),
    num_labels=3,
)

# 4. Define an evaluator for use during training. This is useful to keep track of alongside the evaluation loss.
stsb_eval_dataset = load_local("sentence-transformers/stsb", split="validation")
dev_evaluator = EmbeddingSimilarityEvaluator(
    sentences1=stsb_eval_dataset["sentence1"],
    sentences2=stsb_eval_dataset["sentence2"],
    scores=stsb_eval_dataset["score"],
    main_similarity=SimilarityFunction.COSINE,
    name="sts-dev",
)
logging.info("Evaluation before training:")
dev_evaluator(model)

# 5. Define the training arguments
args = SentenceTransformerTrainingArguments(
    # Required parameter:
    output_dir=output_dir,
    # Optional training parameters:
    num_train_epochs=1,
    max_steps=max_steps,  # local
    per_device_train_batch_size=train_batch_size,
    per_device_eval_batch_size=train_batch_size,
    warmup_ratio=0.1,
    seed=int(os.environ.get("DROPIN_SEED", 42)),  # local: DROPIN_SEED (42 is the trainer's default)
    fp16=False,  # Set to False if you get an error that your GPU can't run on FP16 (local: CPU)
    bf16=False,  # Set to True if you have a GPU that supports BF16
    # Optional tracking/debugging parameters:
    eval_strategy="steps",
    eval_steps=max(1, max_steps // 2),  # local: was 100
    save_strategy="steps",
    save_steps=max(1, max_steps // 2),  # local: was 100
    save_total_limit=2,
    logging_steps=100,
    run_name="nli-v1",  # Will be used in W&B if `wandb` is installed
)

# 6. Create the trainer & start training
trainer = SentenceTransformerTrainer(
    model=model,
    args=args,
    train_dataset=train_dataset,
    eval_dataset=eval_dataset,
    loss=train_loss,
    evaluator=dev_evaluator,
)
trainer.train()

# 7. Evaluate the model performance on the STS Benchmark test dataset
test_dataset = load_local("sentence-transformers/stsb", split="test")
test_evaluator = EmbeddingSimilarityEvaluator(
    sentences1=test_dataset["sentence1"],
    sentences2=test_dataset["sentence2"],
    scores=test_dataset["score"],
    main_similarity=SimilarityFunction.COSINE,
    name="sts-test",
)
test_evaluator(model)

# 8. Save the trained & evaluated model locally
final_output_dir = f"{output_dir}/final"
model.save(final_output_dir)

# 9. (Optional) save the model to the Hugging Face Hub!
# It is recommended to run `huggingface-cli login` to log into your Hugging Face account first
model_name = model_name if "/" not in model_name else model_name.split("/")[-1]
if os.environ.get("DROPIN_PUSH"):  # local: no hub here
    try:
        model.push_to_hub(f"{model_name}-nli-v1")
    except Exception:
        logging.error(
            f"Error uploading model to the Hugging Face Hub:\n{traceback.format_exc()}To upload it manually, you can run "
            f"`huggingface-cli login`, followed by loading the model using `model = SentenceTransformer({final_output_dir!r})` "
            f"and saving it using `model.push_to_hub('{model_name}-nli-v1')`."
        )
