"""The knobs of verification, in one typed place (recorded beside every result)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from equime.errors import EquimeError

VERIFY_VERSION = "3.1"  # 3.1: second opinion (FACS region directions, `verify.directions`)
READOUTS = ("flow", "landmarks", "mesh", "blendshapes")


def _choices(names: tuple[str, ...]) -> str:
    return f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass(frozen=True)
class VerifyConfig:
    """Read-out, spotting and pass/fail settings. Units: frames of the video, blendshape score
    (0-1), inter-ocular distances (IOD) for landmark drift."""

    readout: str = "flow"  # AU read-out: optical flow, landmark geometry or MediaPipe blendshapes
    every: int = 1  # read every k-th frame
    lead_in: float = 0.25  # share of the clip (from its start) taken as the neutral baseline
    min_lead_in: int = 3  # at least this many read frames in the baseline
    smooth: int = 3  # moving-average width in read frames (after a 3-frame median)
    detrend: int = 31  # frames of the running median removed as slow drift (0 = off); keep it
    # at least 3x an expression's length (31 frames = 1.2 s at 25 fps; raise it for 200 fps video)
    z_threshold: float = 6.0  # an AU "rose" when its activation exceeds this many noise SDs ...
    min_rise: float = 0.01  # ... and this much blendshape score (blendshapes read-out)
    min_activation: float = 0.12  # ... or this share of the AU's unit motion (flow, landmarks)
    template_intensity: tuple[float, ...] = (0.3,)  # flow, landmarks: intensities the templates
    # are rendered at (the template is the least-squares slope over them)
    min_motion: float = 0.004  # flow, landmarks: ... and this much motion (IOD) at its peak
    grid_spacing: float = 0.05  # flow: IOD between the face points where flow is read
    robust: float = 3.0  # flow: points with residuals beyond this x the median count less
    jitter_modes: int = 3  # landmarks: main jitter directions of the still lead-in projected out
    activation_noise_floor: float = 0.005  # lower bound on a baseline SD of an AU activation
    # (flow, landmarks: share of the AU's unit motion)
    noise_floor: float = 0.002  # lower bound on a baseline SD (a frozen lead-in has SD 0)
    apex_window: int = 1  # apex activation = mean over apex +- this many read frames
    edge_level: float = 0.15  # onset/offset: where the spotting signal falls below this share
    min_f1: float = 0.75  # pass needs AU F1 at least this
    max_apex_error: int = 3  # frames; only where the true apex is known
    max_identity_drift: float = 0.04  # IOD, shape change of stable landmarks after alignment
    max_pose_drift: float = 0.25  # IOD, rigid motion of the stable landmarks
    min_detected: float = 0.9  # share of read frames with a face
    second_opinion: bool = True  # also read AUs from FACS region directions over the flow
    facs_min_motion: float = 0.006  # second opinion: least motion (IOD) along an AU's
    # directions at apex ...
    facs_min_share: float = 0.35  # ... and this share of the strongest AU's at that frame
    facs_noise_floor: float = 0.0005  # second opinion: lower bound on a baseline SD (IOD)

    def __post_init__(self) -> None:
        checks = [
            (self.readout in READOUTS, f"--readout {self.readout}: use {_choices(READOUTS)}"),
            (
                all(0 < v <= 1 for v in self.template_intensity),
                "template_intensity must be in (0, 1]",
            ),
            (self.grid_spacing > 0, f"grid_spacing {self.grid_spacing} must be positive"),
            (self.robust >= 0, f"robust {self.robust} must be 0 (off) or more"),
            (self.jitter_modes >= 0, f"jitter_modes {self.jitter_modes} must be 0 or more"),
            (self.every >= 1, f"--every {self.every} must be at least 1"),
            (0 < self.lead_in < 1, f"lead_in {self.lead_in} must be between 0 and 1"),
            (self.smooth >= 1, f"smooth {self.smooth} must be at least 1"),
            (self.detrend >= 0, f"--detrend {self.detrend} must be 0 (off) or more frames"),
            (self.z_threshold > 0, f"z_threshold {self.z_threshold} must be positive"),
            (0 < self.edge_level < 1, f"edge_level {self.edge_level} must be between 0 and 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise EquimeError(message)

    def to_dict(self) -> dict:
        return asdict(self)
