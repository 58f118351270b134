"""Micro-expression recognition: dataset loaders, the four baselines, training, evaluation."""
