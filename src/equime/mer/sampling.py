"""Clip sampling: which frames of a source make the clip (PyTorchVideo's 'clip sampler' role).

  onset-offset  the annotated micro-expression, onset to offset (whole source when unannotated)
  apex          n frames centred on the apex (midpoint of the source when unannotated)
  first         the first n frames (the authors' choice: "first 96 frames")
  apex-frame    the apex frame alone (midpoint when unannotated): for single-frame models
At most n frames are taken; the model input is zero-padded up to n (mer.clips.finish).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from equime.errors import EquimeError

SAMPLERS: dict[str, Callable[[pd.Series, int, int], list[int]]] = {}


def register_sampler(name: str) -> Callable[[Callable[..., list[int]]], Callable[..., list[int]]]:
    def wrap(fn: Callable[..., list[int]]) -> Callable[..., list[int]]:
        SAMPLERS[name] = fn
        return fn

    return wrap


@register_sampler("onset-offset")
def onset_offset(row: pd.Series, total: int, n: int) -> list[int]:
    start, end = int(row["onset"]), int(row["offset"])
    if start < 0 or end < start:
        start, end = 0, total - 1
    end = min(end, total - 1, start + n - 1)
    return list(range(max(start, 0), end + 1))


@register_sampler("apex")
def apex_centred(row: pd.Series, total: int, n: int) -> list[int]:
    apex = int(row["apex"]) if int(row["apex"]) >= 0 else total // 2
    start = max(0, min(apex - n // 2, total - n))
    return list(range(start, min(total, start + n)))


@register_sampler("first")
def first_n(row: pd.Series, total: int, n: int) -> list[int]:
    return list(range(min(total, n)))


@register_sampler("apex-frame")
def apex_frame(row: pd.Series, total: int, n: int) -> list[int]:
    apex = int(row["apex"]) if 0 <= int(row["apex"]) < total else total // 2
    return [apex]


def source_length(row: pd.Series) -> int:
    """Frames in the row's source (counted when the table does not say)."""
    total = int(row["n_frames"])
    if total <= 0:
        from equime.mer.clips import count_frames

        total = count_frames(row["source"])
    return total


def sample_indices(row: pd.Series, method: str, n: int) -> list[int]:
    """0-based frame positions of the clip for `row` (a dataset table row)."""
    if method not in SAMPLERS:
        raise EquimeError(f"unknown clip sampling {method!r}; known: {', '.join(SAMPLERS)}")
    total = source_length(row)
    indices = SAMPLERS[method](row, total, n)
    if not indices:
        raise EquimeError(f"{row['source']}: no frames to sample ({method}, {total} frames)")
    return indices
