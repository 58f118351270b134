"""The real-footage check's matching rule (tests/data/real_footage.csv; docs/spotting.md).

Real clips are short and their expressions often stay on (a smile held to the last frame), so
MEGC's IoU >= 0.5 alone would ask a spotter to guess an offset nobody saw. An annotated
expression is found when one spotted interval (any type) either overlaps it and starts within
`onset_s` (0.5 s) of its onset, or has IoU >= 0.5 with [onset, offset] (a sustained expression's
offset is the video's last frame). Each expression is found by at most one interval and each
interval finds at most one expression, in onset order. Every other spotted interval is a false
interval, blinks included; they are counted per minute of video.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from equime.spot.score import iou


@dataclass(frozen=True)
class RealCheck:
    expressions: int
    found: int
    false: int
    minutes: float

    @property
    def recall(self) -> float:
        return self.found / self.expressions if self.expressions else 0.0

    @property
    def false_per_minute(self) -> float:
        return self.false / self.minutes if self.minutes else 0.0


def check_real(
    truth: pd.DataFrame,
    spots: pd.DataFrame,
    frames: dict[str, int],
    fps: dict[str, float],
    onset_s: float = 0.5,
) -> RealCheck:
    """`truth`: real_footage.csv rows (kind, video, onset, offset); `spots`: spots.csv; `frames`
    and `fps`: each video's frame count and mean frame rate."""
    expressions = truth[truth["kind"] == "expression"]
    found = false = 0
    for video in frames:
        mine = spots[spots["video"] == video].sort_values("onset")
        wanted = expressions[expressions["video"] == video].sort_values("onset")
        open_truths = [
            (
                int(e.onset),
                int(e.offset) if e.offset == e.offset else frames[video] - 1,
            )
            for e in wanted.itertuples()
        ]
        for s in mine.itertuples():
            hit = next(
                (
                    t
                    for t in open_truths
                    if (
                        s.onset <= t[1]
                        and s.offset >= t[0]
                        and abs(s.onset - t[0]) <= onset_s * fps[video]
                    )
                    or iou((s.onset, s.offset), t) >= 0.5
                ),
                None,
            )
            if hit is None:
                false += 1
            else:
                open_truths.remove(hit)
                found += 1
    minutes = sum(frames[v] / fps[v] for v in frames) / 60.0
    return RealCheck(len(expressions), found, false, minutes)
