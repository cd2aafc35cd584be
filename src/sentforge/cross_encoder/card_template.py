"""The CrossEncoder card's skeleton, in the layout of sentence-transformers' cross-encoder cards."""

TEMPLATE = """---
{{ front_matter }}
---

# {{ model_name }}

{{ intro }}

## Model Details

### Model Description
- **Model Type:** Cross Encoder
{% if base_model %}
- **Base model:** [{{ base_model }}](https://huggingface.co/{{ base_model }})
{% else %}
<!-- - **Base model:** [Unknown](https://huggingface.co/unknown) -->
{% endif %}
- **Maximum Sequence Length:** {{ max_length }} tokens
- **Number of Output Labels:** {{ num_labels }} label{{ "s" if num_labels > 1 else "" }}
{% if training_datasets %}
- **Training Dataset{{ "s" if training_datasets | length > 1 else "" }}:**
{% for dataset in training_datasets %}
    - {{ dataset }}
{% endfor %}
{% else %}
<!-- - **Training Dataset:** Unknown -->
{% endif %}
{% if language %}
- **Language{{ "s" if language | length > 1 else "" }}:** {{ language | join(", ") }}
{% else %}
<!-- - **Language:** Unknown -->
{% endif %}
{% if license %}
- **License:** {{ license }}
{% else %}
<!-- - **License:** Unknown -->
{% endif %}

### Model Sources

- **Documentation:** [Sentence Transformers Documentation](https://sbert.net)
- **Documentation:** [Cross Encoder Documentation](https://www.sbert.net/docs/cross_encoder/usage/usage.html)
- **Repository:** [Sentence Transformers on GitHub](https://github.com/huggingface/sentence-transformers)
- **Hugging Face:** [Cross Encoders on Hugging Face](https://huggingface.co/models?library=sentence-transformers&other=cross-encoder)

### Full Model Architecture

```
{{ architecture }}
```

## Usage

### Direct Usage (Sentence Transformers)

First install the Sentence Transformers library:

```bash
pip install -U sentence-transformers
```

Then you can load this model and run inference.
```python
{{ usage_code }}
```
{% if evaluations %}

## Evaluation

### Metrics
{% for block in evaluations %}

#### {{ block.description }}
{% if block.dataset_line %}

{{ block.dataset_line }}
{% endif %}
* Evaluated with {{ block.evaluated_with }}

{{ block.table }}
{% for note in block.nan_notes %}
{{ note }}
{% endfor %}
{% endfor %}
{% endif %}
{% if baseline_table %}

## Baseline vs Fine-tuned

The same evaluation on the model before training (the base model with its new head) and after.

{{ baseline_table }}
{% endif %}

## Training Details
{% for heading, blocks in dataset_sections %}

### {{ heading }}
{% for dataset in blocks %}

#### {{ dataset.name }}

{% if dataset.source %}
{{ dataset.source }}
{% endif %}
{% if dataset.size %}
{{ dataset.size }}
{% endif %}
{{ dataset.columns }}
{% if dataset.statistics %}
* Approximate statistics based on the first {{ dataset.stats_rows }} samples:
{{ dataset.statistics }}
{% endif %}
{% if dataset.samples %}
* Samples:
{{ dataset.samples }}
{% endif %}
{% if dataset.loss %}
{{ dataset.loss }}
{% endif %}
{% endfor %}
{% endfor %}
{% if all_hyperparameters %}

### Training Hyperparameters
{% if non_default_hyperparameters %}
#### Non-Default Hyperparameters

{% for line in non_default_hyperparameters %}
{{ line }}
{% endfor %}
{% endif %}

#### All Hyperparameters
<details><summary>Click to expand</summary>

{% for line in all_hyperparameters %}
{{ line }}
{% endfor %}

</details>
{% endif %}
{% if training_logs %}

### Training Logs
{{ training_logs }}
{% endif %}

### Framework Versions
{% for name, version in framework_versions.items() %}
- {{ name }}: {{ version }}
{% endfor %}

## Citation

### BibTeX
{% for title, citation in citations.items() %}

#### {{ title }}
```bibtex
{{ citation }}
```
{% endfor %}
"""
