"""Training: arguments, samplers, the trainer, atomic checkpoints, the run record."""
