"""Spotting micro- and macro-expressions in long videos: the spotter, the MEGC scorer (with
STRS), per-video plots and loaders for real long-video datasets (one interval table shape)."""
