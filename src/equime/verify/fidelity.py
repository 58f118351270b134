"""Fidelity of one video: which AUs rose at apex against which were requested, how strongly, when,
and whether the face kept its identity and pose; pass or fail with the reasons.

- measured AUs: activation at the estimated apex (mean over apex +- `apex_window` read frames) at
  least `z_threshold` baseline SDs and the read-out's least rise (`AUCurves.min_rise`).
- recall: requested AUs that were measured (or an AU the read-out cannot tell from it) /
  requested. precision: measured AUs that were
  requested, or that the read-out cannot tell from a requested one (`AUCurves.explains`: shared
  blendshapes, or landmark templates with cosine >= 0.9 on this face), / measured. F1 their
  harmonic mean.
- intensity r: Pearson correlation over all read AUs of requested intensity (0 if not requested)
  and measured apex activation (landmarks: mapped back to intensity through the generator's
  response curve, `geometry.intensity`).
- apex error: estimated minus true apex, in frames (only where the truth is known).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equime.facs.aus import parse_code
from equime.verify.config import VerifyConfig
from equime.verify.curves import AUCurves
from equime.verify.drift import drift
from equime.verify.readout import Readout
from equime.verify.spotting import Spot


@dataclass(frozen=True)
class Truth:
    """Ground-truth timing where a generator knows it (warp, or an annotated real dataset)."""

    onset: int
    apex: int
    offset: int


def requested_numbers(aus: dict[str, float]) -> dict[int, float]:
    """Z by AU number (a sided code counts for its AU; the larger intensity wins)."""
    out: dict[int, float] = {}
    for code, value in aus.items():
        if value > 0:
            number = parse_code(code)[1]
            out[number] = max(out.get(number, 0.0), float(value))
    return out


def apex_activation(curves: AUCurves, spot: Spot, cfg: VerifyConfig) -> np.ndarray:
    i = int(np.searchsorted(curves.frames, spot.apex))
    lo, hi = max(i - cfg.apex_window, 0), min(i + cfg.apex_window + 1, len(curves.frames))
    return curves.values.iloc[lo:hi].mean().to_numpy()


def _join(numbers: list[int]) -> str:
    return "+".join(str(n) for n in sorted(numbers))


def assess(
    readout: Readout,
    curves: AUCurves,
    spot: Spot,
    requested: dict[str, float],
    cfg: VerifyConfig,
    truth: Truth | None = None,
) -> dict:
    """One row of verify columns (see docs/verify.md for each column)."""
    aus = [int(a) for a in curves.values.columns]
    act = apex_activation(curves, spot, cfg)
    z = act / curves.noise.to_numpy()
    least = np.broadcast_to(np.asarray(curves.min_rise, np.float64), act.shape)
    measured = [
        a for a, v, s, m in zip(aus, act, z, least, strict=True) if s >= cfg.z_threshold and v >= m
    ]
    explains = curves.explains or {}
    want = requested_numbers(requested)
    seen = [a for a in want if a in measured or any(m in explains.get(a, ()) for m in measured)]
    missing = [a for a in want if a not in seen]
    explained = [m for m in measured if m in want or any(m in explains.get(r, ()) for r in want)]
    unrequested = [m for m in measured if m not in explained]
    recall = len(seen) / len(want) if want else float("nan")
    precision = len(explained) / len(measured) if measured else (float("nan") if not want else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if want and precision + recall > 0 else 0.0
    f1 = f1 if want else float("nan")
    wanted = np.array([want.get(a, 0.0) for a in aus])
    if curves.readout != "blendshapes":  # flow, landmarks: shares of the unit motion
        from equime.verify.geometry import intensity

        act = np.array([float(intensity(a, max(v, 0.0))) for a, v in zip(aus, act, strict=True)])
    r = (
        float(np.corrcoef(wanted, act)[0, 1])
        if wanted.std() > 0 and act.std() > 0
        else float("nan")
    )
    identity, pose = drift(readout.landmarks, curves.lead_in)
    detected = float(readout.detected.mean())
    row = {
        "verify_readout": curves.readout,
        "au_precision": precision,
        "au_recall": recall,
        "au_f1": f1,
        "au_intensity_r": r,
        "measured_aus": _join(measured),
        "verify_missing_aus": _join(missing),
        "verify_unrequested_aus": _join(unrequested),
        "verify_au_z": " ".join(f"{a}:{s:.1f}" for a, s in zip(aus, z, strict=True) if s >= 2),
        "est_onset": spot.onset,
        "est_apex": spot.apex,
        "est_offset": spot.offset,
        "verify_timing": "estimated",
        "apex_error_frames": float(spot.apex - truth.apex) if truth else float("nan"),
        "onset_error_frames": float(spot.onset - truth.onset) if truth else float("nan"),
        "offset_error_frames": float(spot.offset - truth.offset) if truth else float("nan"),
        "identity_drift": identity,
        "pose_drift": pose,
        "verify_detected": detected,
        "verify_frames_read": len(readout.frames),
    }
    reasons = failure_reasons(row, want, measured, missing, unrequested, cfg)
    row["verified"] = not reasons
    row["verify_reasons"] = "; ".join(reasons)
    return row


def failure_reasons(
    row: dict,
    want: dict[int, float],
    measured: list[int],
    missing: list[int],
    unrequested: list[int],
    cfg: VerifyConfig,
) -> list[str]:
    """Why a video fails, in words a person can act on; empty when it passes."""
    reasons = []
    if row["verify_detected"] < cfg.min_detected:
        reasons.append(f"face found in only {row['verify_detected']:.0%} of read frames")
    if not measured:
        reasons.append(
            "no expression" if not want else f"no expression (requested AU {_join(list(want))})"
        )
    elif not want:
        reasons.append(f"expression where none was requested (AU {_join(measured)})")
    elif row["au_f1"] < cfg.min_f1:
        parts = [f"AU F1 {row['au_f1']:.2f} < {cfg.min_f1}"]
        if missing:
            parts.append(f"missing AU {_join(missing)}")
        if unrequested:
            parts.append(f"unrequested AU {_join(unrequested)}")
        reasons.append(", ".join(parts))
    err = row["apex_error_frames"]
    if want and measured and np.isfinite(err) and abs(err) > cfg.max_apex_error:
        reasons.append(f"apex off by {err:+.0f} frames")
    if np.isfinite(row["identity_drift"]) and row["identity_drift"] > cfg.max_identity_drift:
        reasons.append(f"identity drift {row['identity_drift']:.3f} IOD")
    if np.isfinite(row["pose_drift"]) and row["pose_drift"] > cfg.max_pose_drift:
        reasons.append(f"pose drift {row['pose_drift']:.3f} IOD")
    return reasons
