"""Video quality metrics (the paper's Table 2): PSNR and SSIM between consecutive frames, total
variation, BRISQUE and CLIP-IQA, behind a registry; readers for EquiME datasets, folders of MP4s
and real datasets' folders of frame images; per-video tables, summaries, Table-2 text and plots.

Importing this package registers every metric and reader.
"""

from __future__ import annotations

from equime.quality import brisque, clipiqa, consecutive, readers, tv  # noqa: F401  (register)
from equime.quality.base import METRICS, MetricUnavailable, QualityOptions, register_metric

__all__ = ["METRICS", "MetricUnavailable", "QualityOptions", "register_metric"]
