"""The metric registry and the settings every metric sees.

A metric is built once per process (`build_metrics`), then called on whole clips: a clip is all
its frames as one (T, H, W, C) uint8 array, so each metric batches over frames itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

# Table-2 order; also the order of the columns everywhere.
METRIC_ORDER = ["psnr", "ssim", "tv", "brisque", "clipiqa"]
LABELS = {
    "psnr": "PSNR",
    "ssim": "SSIM",
    "tv": "TV",
    "brisque": "BRISQUE",
    "clipiqa": "CLIP-IQA",
}


# How a metric is defined; every report names the one it used.
DEFINITIONS = {
    "paper": (
        "the authors' evaluation script (noobasuna/equime, evaluation_framework/"
        "video_quality_metrics.py): grey frames (OpenCV BT.601), scikit-image SSIM defaults, "
        "piq's l2 TV, identical consecutive frames scored PSNR 100 dB and SSIM 1 and averaged "
        "in, BRISQUE unclipped, CLIP-IQA at the frame's own size"
    ),
    "exact": (
        "colour frames (grey with --grayscale), identical consecutive frames left out of PSNR "
        "and SSIM alike (counted), BRISQUE clipped to its 0-100 scale (raw mean kept), CLIP-IQA "
        "at the model's input size"
    ),
}
DEFAULT_DEFINITION = "paper"  # the figures people compare with are the paper's Table 2
PAPER_IDENTICAL_PSNR = 100.0  # the authors' compute_psnr returns 100 when the MSE is 0


@dataclass(frozen=True)
class QualityOptions:
    """What changes the numbers (recorded next to the results)."""

    definition: str = DEFAULT_DEFINITION  # a key of DEFINITIONS
    grayscale: bool = False  # `exact` only: frames to grey (BT.601) first; `paper` is always grey
    every: int = 1  # use frames 0, K, 2K, ... (PSNR/SSIM: the pairs (t-1, t) at those t)
    clip_model: str | None = None  # local folder (or hub id) of a transformers CLIP model
    fps: float | None = None  # frame rate of frame-image folders (they carry none)
    metrics: tuple[str, ...] = tuple(METRIC_ORDER)

    def __post_init__(self) -> None:
        if self.definition not in DEFINITIONS:
            raise ValueError(f"unknown definition {self.definition!r}: {', '.join(DEFINITIONS)}")

    @property
    def paper(self) -> bool:
        return self.definition == "paper"

    @property
    def grey(self) -> bool:
        """Frames go to grey before every metric."""
        return self.paper or self.grayscale

    def to_dict(self) -> dict:
        return asdict(self)


class MetricUnavailable(Exception):
    """A metric cannot run here (e.g. no CLIP weights); its column says so, with this reason."""


class Metric(Protocol):
    name: str

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        """Per-video values (the column `name` and any extra columns) for (T, H, W, C) uint8."""
        ...


MetricFactory = Callable[[QualityOptions], Metric]
METRICS: dict[str, MetricFactory] = {}
BUILD_COUNTS: dict[str, int] = {}  # how often each metric was built in this process (tests check 1)


def register_metric(name: str) -> Callable[[MetricFactory], MetricFactory]:
    def wrap(factory: MetricFactory) -> MetricFactory:
        METRICS[name] = factory
        return factory

    return wrap


def build_metrics(options: QualityOptions) -> tuple[dict[str, Metric], dict[str, str]]:
    """Every requested metric, built once; the ones that cannot run, with the reason."""
    built: dict[str, Metric] = {}
    unavailable: dict[str, str] = {}
    for name in options.metrics:
        try:
            built[name] = METRICS[name](options)
            BUILD_COUNTS[name] = BUILD_COUNTS.get(name, 0) + 1
        except MetricUnavailable as exc:
            unavailable[name] = str(exc)
    return built, unavailable


def to_gray(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) RGB -> (T, H, W, 1) grey uint8 with BT.601 weights (OpenCV, as most scripts)."""
    import cv2

    if frames.shape[-1] == 1:
        return frames
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])[..., None]


def sample_indices(n_frames: int, every: int) -> np.ndarray:
    return np.arange(0, n_frames, max(1, every))
