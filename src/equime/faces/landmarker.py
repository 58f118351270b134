"""MediaPipe Face Landmarker (478 landmarks + 52 blendshapes) in a small, explicitly closed wrapper.

MediaPipe's own landmarker raises from its destructor at interpreter exit, so this wrapper is a
context manager, `close()` is idempotent, and any landmarker left open is closed by an atexit hook.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from equime.errors import EquimeError
from equime.faces.model import landmarker_model_path

log = logging.getLogger(__name__)

N_LANDMARKS = 478
_TRACK_STEP_MS = 1000  # timestamp step between tracked frames (see Landmarker.track)

# glog honours these only if set before the native library loads; harmless otherwise.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Native start-up chatter (absl/glog INFO and WARNING lines, TFLite's delegate notice): no news.
_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog|WARNING: Logging before InitGoogle"
    r"|INFO: Created TensorFlow Lite|[IW]\d{4} [\d:. ]+\d+ \S+:\d+\])"
)


@dataclass(frozen=True, eq=False)
class Detection:
    """One face found in an image, in that image's pixel coordinates."""

    landmarks: np.ndarray  # (478, 2) float32, pixel (x, y); x = normalised x * width
    depth: np.ndarray  # (478,) float32, MediaPipe z * width (~pixels); smaller = nearer the camera
    blendshapes: dict[str, float]  # 52 ARKit-style coefficients in [0, 1], plus "_neutral"

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Landmarks' bounding box (x0, y0, x1, y1) in pixels."""
        x0, y0 = self.landmarks.min(axis=0)
        x1, y1 = self.landmarks.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def size(self) -> float:
        """Face size in pixels: the longer side of the landmarks' bounding box."""
        x0, y0, x1, y1 = self.box
        return max(x1 - x0, y1 - y0)


class Landmarker:
    """Finds faces in RGB images. Use as `with Landmarker() as lm:` or call `close()` yourself."""

    def __init__(self, model_path: str | Path | None = None, max_faces: int = 5) -> None:
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        self.model_path = landmarker_model_path(model_path)
        self.max_faces = max_faces
        self._impl: Any = None
        self._warmed = False
        self._impl = self._graph("IMAGE")
        _OPEN.add(self)

    def _graph(self, mode: str) -> Any:
        """A MediaPipe landmarker graph in running mode `mode` ('IMAGE' or 'VIDEO')."""
        with _quiet_native_stderr():
            from mediapipe.tasks.python import BaseOptions, vision

            options = vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(self.model_path)),
                running_mode=getattr(vision.RunningMode, mode),
                num_faces=self.max_faces,
                output_face_blendshapes=True,
            )
            try:
                return vision.FaceLandmarker.create_from_options(options)
            except (RuntimeError, ValueError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown error"
                raise EquimeError(
                    f"{self.model_path}: cannot load the face landmarker model ({reason})"
                ) from exc

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """All faces in an (H, W, 3) uint8 RGB image, largest first."""
        if self._impl is None:
            raise RuntimeError("Landmarker is closed")
        first, self._warmed = not self._warmed, True
        return self._run(lambda image: self._impl.detect(image), rgb, quiet=first)

    def track(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, list[Detection]]]:
        """(frame, its faces largest first) for consecutive frames of one video.

        MediaPipe's VIDEO mode: after the first frame the face region comes from the previous
        frame's landmarks instead of a fresh face detection, so the crop the mesh model sees does
        not jump from frame to frame. On a still face this cuts the non-rigid landmark jitter that
        IMAGE mode shows (on the demo clips, enough that no still clip reads as an expression).
        Frames are stamped one second apart, which leaves MediaPipe's own landmark smoothing (a
        display filter that delays fast motion by a frame or two) practically off: a
        micro-expression is a fast motion, and verify smooths its curves itself.
        """
        if self._impl is None:
            raise RuntimeError("Landmarker is closed")
        graph = self._graph("VIDEO")  # a fresh graph: no tracking state from another video
        try:
            for i, rgb in enumerate(frames):
                stamp = i * _TRACK_STEP_MS
                infer = lambda image, t=stamp: graph.detect_for_video(image, t)  # noqa: E731
                yield rgb, self._run(infer, rgb, quiet=i == 0)
        finally:
            graph.close()

    def _run(self, infer: Callable[[Any], Any], rgb: np.ndarray, quiet: bool) -> list[Detection]:
        """Faces found by `infer` in `rgb`; `quiet`: a graph's first inference prints start-up
        notices, which are dropped."""
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3:
            raise ValueError("detect() needs an (H, W, 3) uint8 RGB array")
        if rgb.shape[2] != 3:
            raise ValueError(f"detect() needs 3 channels, got {rgb.shape[2]}")
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if quiet:
            with _quiet_native_stderr():
                result = infer(image)
        else:
            result = infer(image)
        height, width = rgb.shape[:2]
        detections = [
            _to_detection(points, shapes, width, height)
            for points, shapes in zip(
                result.face_landmarks,
                result.face_blendshapes or [[] for _ in result.face_landmarks],
                strict=True,
            )
        ]
        detections.sort(key=lambda d: d.size, reverse=True)
        return detections

    def close(self) -> None:
        """Release the native graph; safe to call more than once."""
        impl, self._impl = self._impl, None
        _OPEN.discard(self)
        if impl is not None:
            impl.close()

    @property
    def closed(self) -> bool:
        return self._impl is None

    def __enter__(self) -> Landmarker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _to_detection(points: list[Any], shapes: list[Any], width: int, height: int) -> Detection:
    xyz = np.array([(p.x, p.y, p.z) for p in points], dtype=np.float64)
    landmarks = (xyz[:, :2] * (width, height)).astype(np.float32)
    depth = (xyz[:, 2] * width).astype(np.float32)
    blendshapes = {c.category_name: float(c.score) for c in shapes}
    return Detection(landmarks=landmarks, depth=depth, blendshapes=blendshapes)


_OPEN: weakref.WeakSet[Landmarker] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Close landmarkers nobody closed, before MediaPipe's destructors run during shutdown."""
    for landmarker in list(_OPEN):
        with contextlib.suppress(Exception):
            landmarker.close()


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Capture the C++ layer's stderr for a moment; pass on only lines that are not start-up noise.

    Process-wide (file descriptor 2), so it is kept to landmarker creation and the first inference.
    """
    fd = 2  # native code writes to descriptor 2 whatever sys.stderr currently is
    try:
        os.fstat(fd)
        for stream in (sys.stderr, sys.__stderr__):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            kept: list[str] = []
            for line in filter(str.strip, text.splitlines()):
                if _NOISE.match(line):
                    log.debug("mediapipe: %s", line)
                else:
                    kept.append(line)
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()
