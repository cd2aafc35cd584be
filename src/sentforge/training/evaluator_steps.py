"""The evaluator inside transformers' evaluation loop, shared by the bi-encoder and cross-encoder trainers."""

from __future__ import annotations

import os

from transformers.trainer_utils import EvalLoopOutput


class EvaluatorSteps:
    """Mixed into a ``transformers.Trainer``: each evaluation also runs ``self.evaluator`` and logs its
    metrics as ``<prefix>_<name>_<metric>``; ``run_evaluator`` runs it on the model as it is now."""

    def evaluation_loop(self, dataloader, description, prediction_loss_only=None, ignore_keys=None,
                        metric_key_prefix: str = "eval") -> EvalLoopOutput:
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        if self.evaluator is None:
            return output
        if self.is_in_train and isinstance(self.eval_dataset, dict) and metric_key_prefix.startswith("eval_"):
            if metric_key_prefix[5:] != next(iter(self.eval_dataset)):
                return output  # several eval sets: the evaluator runs once, with the first
            metric_key_prefix = "eval"
        metrics = self.run_evaluator()
        output.metrics.update({f"{metric_key_prefix}_{k}": v for k, v in metrics.items()})
        return output

    def run_evaluator(self, write_csv: bool = True) -> dict[str, float]:
        """Run the evaluator(s) on the current model; metrics named ``<name>_<metric>``. ``write_csv=False``
        leaves the evaluators' CSV files alone (the baseline, which sentence-transformers never writes)."""
        if self.evaluator is None:
            return {}
        output_path = None
        if write_csv and self.is_world_process_zero() and self.args.output_dir:
            output_path = os.path.join(self.args.output_dir, "eval")
            os.makedirs(output_path, exist_ok=True)
        epoch = self.state.epoch if self.state.epoch is not None else -1
        metrics = self.evaluator(self.model, output_path=output_path, epoch=epoch, steps=self.state.global_step)
        return metrics if isinstance(metrics, dict) else {"evaluator": float(metrics)}
