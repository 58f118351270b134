"""Miniature copies of the real micro-expression datasets' layouts and annotation sheets.

Every frame image is a flat grey whose level encodes its frame number (level = 2 * number mod
250), so a test can tell exactly which frames a loader and sampler picked.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from openpyxl import Workbook


def level(number: int) -> int:
    return (2 * number) % 250


def write_frames(
    folder: Path, numbers: range | list[int], name: str = "img{}.jpg", size: int = 16
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        cv2.imwrite(str(folder / name.format(n)), np.full((size, size, 3), level(n), np.uint8))


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


SAMM_LV_HEADER = [
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset",
    "Apex",
    "Offset",
    "Duration",
    "Type",
    "Action Units",
    "Notes",
]


def write_samm_lv_sheet(root: Path, preamble: list[list], rows: list[list]) -> Path:
    """SAMM Long Videos' sheet as released (SAMM_LongVideos_V2_Release.xlsx): note rows, then
    the header and one row per interval."""
    path = root / "SAMM_LongVideos_V2_Release.xlsx"
    pd.DataFrame([*preamble, SAMM_LV_HEADER, *rows]).to_excel(path, header=False, index=False)
    return path


def make_samm(root: Path) -> Path:
    """SAMM as released: a 13-row preamble, the header on spreadsheet row 14; frames
    <Subject>/<Filename>/<sub>_<frame>.jpg. Quirks: apex -1 (not coded), AU cells with
    alternatives ('4+7 (or 43)', 'R12 or R15'), a row whose folder is missing (009_9_9) and a row
    whose frame range is not on disk (008_1_1: sheet 40-50, files 100-109)."""
    preamble = [
        ["SAMM Micro-Movement Database"],
        ["FACS codes"],
        *[[] for _ in range(10)],
        ["Notes: v2"],
    ]
    header = [
        "Subject",
        "Filename",
        "Inducement Code",
        "Onset Frame",
        "Apex Frame",
        "Offset Frame",
        "Duration",
        "Type",
        "Action Units",
        "Notes",
        "Estimated Emotion",
    ]
    data = [
        [6, "006_1_2", 1, 5562, 5588, 5605, 44, "Micro - 1/2", "4+7 (or 43)", "", "Anger"],
        [6, "006_1_3", 1, 3912, 3948, 3980, 69, "Micro - 1/2", "R12+L14", "", "Contempt"],
        [7, "007_6_1", 6, 100, -1, 120, 21, "Micro - 1/2", "12", "", "Happiness"],
        [7, "007_7_2", 7, 50, 60, 70, 21, "Micro - 1/2", "R12 or R15", "", "Other"],
        [8, "008_1_1", 1, 40, 45, 50, 11, "Micro - 1/2", "4", "", "Fear"],  # files 100-109
        [9, "009_9_9", 1, 10, 12, 14, 5, "Micro - 1/2", "4", "", "Sadness"],  # no frames on disk
    ]
    write_xlsx(root / "SAMM_Micro_FACS_Codes_v2.xlsx", [*preamble, header, *data])
    write_frames(root / "006" / "006_1_2", range(5560, 5608), "006_0{}.jpg")
    write_frames(root / "006" / "006_1_3", range(3910, 3982), "006_0{}.jpg")
    write_frames(root / "007" / "007_6_1", range(98, 123), "007_{:05d}.jpg")
    write_frames(root / "007" / "007_7_2", range(50, 71), "007_{:05d}.jpg")
    write_frames(root / "008" / "008_1_1", range(100, 110), "008_{:05d}.jpg")
    return root


# MEGC 2019 leaves these CASME II clips out of the composite (with every fear and sadness clip);
# make_casme2(megc=True) writes them, labelled so that the 3-class mapping would keep them.
MEGC_LEFT_OUT = ("sub04/EP12_01f", "sub05/EP12_03f", "sub24/EP02_07")


def make_casme2(root: Path, version: int = 1, extra_subjects: int = 0, megc: bool = False) -> Path:
    """CASME II: version 1 'OnsetFrame' headers and numeric subjects; version 2 spaced headers,
    'sub01' subjects and '/' for an uncoded apex. Both have the release's two blank-header
    columns. Frames sub<NN>/<Filename>/img<k>.jpg.
    `extra_subjects` adds subjects 3, 4, ... with three clips each (enough to train on).
    `megc` adds a fear and a sadness clip (sub05/EP19_01, sub24/EP08_02) and the three clips of
    MEGC_LEFT_OUT (sub04/EP12_01f with apex '/', as in the release; happiness, surprise,
    disgust), for the MEGC 2019 composite selection."""
    if version == 1:
        header = [
            "Subject",
            "Filename",
            None,
            "OnsetFrame",
            "ApexFrame",
            "OffsetFrame",
            None,
            "Action Units",
            "Estimated Emotion",
        ]
        data = [
            [1, "EP02_01f", 1, 46, 59, 86, "", "12", "happiness"],
            [1, "EP03_02", 1, 1, 10, 20, 2, "4+L10", "disgust"],
            [2, "EP02_01f", 2, 30, 40, 50, "", "14", "repression"],
            [2, "EP09_01", 3, 5, 8, 12, "", "R4", "others"],
        ]
        name = "CASME2-coding-20140508.xlsx"
    else:
        header = [
            "Subject",
            "Filename",
            None,
            "Onset Frame",
            "Apex Frame",
            "Offset Frame",
            None,
            "Action Units",
            "Emotion",
        ]
        data = [
            ["sub01", "EP02_01f", 1, 46, "/", 86, "", "12", "Happiness"],
            ["sub01", "EP03_02", 1, 1, 10, 20, 2, "4+L10", "Disgust"],
            ["sub02", "EP02_01f", 2, 30, 40, 50, "", "14", "Repression"],
            ["sub02", "EP09_01", 3, 5, 8, 12, "", "R4", "Others"],
        ]
        name = "CASME2-coding-20140508-v2.xlsx"
    emotions = ("happiness", "disgust", "surprise")
    for k in range(3, 3 + extra_subjects):
        for j, emotion in enumerate(emotions):
            data.append([k, f"EP1{j}_0{k}", 1, 1, 4, 8, "", "12", emotion])
            write_frames(root / f"sub{k:02d}" / f"EP1{j}_0{k}", range(1, 9))
    if megc:
        for subject, clip, apex, emotion in (
            (4, "EP12_01f", "/", "happiness"),
            (5, "EP12_03f", 15, "surprise"),
            (24, "EP02_07", 15, "disgust"),
            (5, "EP19_01", 15, "fear"),
            (24, "EP08_02", 15, "sadness"),
        ):
            data.append([subject, clip, 1, 10, apex, 20, "", "4", emotion])
            write_frames(root / f"sub{subject:02d}" / clip, range(10, 21))
    write_xlsx(root / name, [header, *data])
    write_frames(root / "sub01" / "EP02_01f", range(46, 87))
    write_frames(root / "sub01" / "EP03_02", range(1, 21))
    write_frames(root / "sub02" / "EP02_01f", range(30, 51))
    write_frames(root / "sub02" / "EP09_01", range(5, 13))
    return root


def make_casme3(root: Path, full_sheet: bool = False) -> Path:
    """CAS(ME)^3 part A: the ME label sheet; frames <Subject>/<Filename>/color/<k>.jpg, one
    folder per recorded video. Quirks: video spNO.1/a holds two micro-expressions; spNO.216/d's
    onset 3647 comes after its apex and spNO.216/e names frame 0, which does not exist (MEB
    corrects both); an unrelated workbook lies beside the sheet. `full_sheet` also writes the
    full part A sheet (micro and macro rows, 'Expression type', no emotion column)."""
    header = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]
    data = [
        ["spNO.1", "a", 10, 15, 22, "L12+R12", 1, "happy"],
        ["spNO.1", "a", 40, 44, 48, "4+7", 2, "disgust"],
        ["spNO.1", "b", 100, 104, 110, "4+7", 2, "anger"],
        ["spNO.2", "a", 0, 3, 6, "1+2+5", 3, "surprise"],
        ["spNO.216", "d", 3647, 2668, 2694, "4", 2, "sad"],
        ["spNO.216", "e", 0, 0, 25, "1+2", 3, "surprise"],
    ]
    write_xlsx(root / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx", [header, *data])
    write_xlsx(root / "participants.xlsx", [["Subject", "Age"], ["spNO.1", 23]])
    write_frames(root / "spNO.1" / "a" / "color", range(0, 60), "{}.jpg")
    write_frames(root / "spNO.1" / "b" / "color", range(100, 111), "{}.jpg")
    write_frames(root / "spNO.2" / "a" / "color", range(0, 7), "{}.jpg")
    write_frames(root / "spNO.216" / "d" / "color", range(2640, 2700), "{}.jpg")
    write_frames(root / "spNO.216" / "e" / "color", range(1, 26), "{}.jpg")
    if full_sheet:
        header = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Expression type"]
        header.append("Objective class")
        full = [
            ["spNO.1", "a", 10, 15, 22, "L12+R12", "Micro-expression", 1],
            ["spNO.1", "a", 30, 38, 55, "12", "Macro-expression", 1],
            ["spNO.1", "a", 40, 44, 48, "4+7", "Micro-expression", 2],
            ["spNO.2", "a", 0, 3, 6, "1+2+5", "Micro-expression", 3],
        ]
        write_xlsx(root / "CAS(ME)3_part_A_v2.xlsx", [header, *full])
    return root


def make_smic(root: Path) -> Path:
    """SMIC as released: one folder per camera (HS, VIS, NIR), each
    <subject>/micro/<label>/<clip>/image<k>.bmp, the same clip names in every camera."""
    for camera, first in (("HS", 1000), ("VIS", 100), ("NIR", 100)):
        base = root / camera
        write_frames(
            base / "s1" / "micro" / "negative" / "s1_ne_01",
            range(first, first + 12),
            "image{:06d}.bmp",
        )
        if camera == "HS":
            write_frames(
                base / "s1" / "micro" / "surprise" / "s1_sur_01",
                range(2000, 2009),
                "image{:06d}.bmp",
            )
            write_frames(
                base / "s2" / "micro" / "positive" / "s2_po_01", range(300, 320), "image{:06d}.bmp"
            )
            (base / "s2" / "micro" / "positive" / "empty_clip").mkdir(parents=True)  # skipped
    return root


def make_miex(root: Path) -> Path:
    """MiE-X: <celebA_id>_<source>_<label>/0.jpg ...: _0 negative, _1 positive, _2 surprise;
    2-frame variants (frame 1 the apex) and a 10-frame variant (intensity rising to the end)."""
    write_frames(root / "000017_mead_0", range(0, 8), "{}.jpg")
    write_frames(root / "000017_mead_1", range(0, 8), "{}.jpg")
    write_frames(root / "000042_mmew_a_2", range(0, 6), "{}.jpg")
    write_frames(root / "000042_mead_1", range(0, 5), "{}.jpg")
    write_frames(root / "000051_mmew_0", range(0, 2), "{}.jpg")
    write_frames(root / "000051_casme_2", range(0, 10), "{}.jpg")
    return root


VARIANTS = ("orig", "mirror", "zoom", "warm", "cool-mirror", "dark")


def make_variant_faces(folder: Path, variants: tuple[str, ...] = VARIANTS) -> Path:
    """More 'identities' from the two demo photos: mirrored, zoomed, recoloured, darkened copies,
    listed in faces.csv with the real people's known attributes. They are new inputs, not new
    people: a model tested on held-out variants has still seen both persons in training."""
    from equime.faces.images import load_rgb
    from equime.faces.sources import demo_sources

    def make(image: np.ndarray, name: str) -> np.ndarray:
        h, w = image.shape[:2]
        c = int(min(h, w) * 0.08)
        return {
            "orig": lambda: image,
            "mirror": lambda: image[:, ::-1],
            "zoom": lambda: cv2.resize(image[c : h - c, c : w - c], (w, h)),
            "warm": lambda: np.clip(image * np.array([1.15, 1.0, 0.8]), 0, 255),
            "cool-mirror": lambda: np.clip(image[:, ::-1] * np.array([0.85, 0.95, 1.2]), 0, 255),
            "dark": lambda: np.clip(image * 0.7 + 10, 0, 255),
        }[name]().astype(np.uint8)

    folder.mkdir(parents=True, exist_ok=True)
    lines = ["path,gender,race,age"]
    for source in demo_sources():
        person = source.face_id.split("-")[0]
        image = load_rgb(source.path)
        for name in variants:
            path = folder / f"{person}_{name}.png"
            rgb = np.ascontiguousarray(make(image, name))
            cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            a = source.attributes
            lines.append(f"{path.name},{a['gender']},{a['race']},{a['age']}")
    (folder / "faces.csv").write_text("\n".join(lines) + "\n")
    return folder / "faces.csv"


def make_labelled_folder(root: Path) -> Path:
    """A generic folder dataset listed in labels.csv, with subjects and gender / age attributes."""
    emotions = ("happiness", "surprise", "disgust", "sadness")
    lines = ["path,label,subject,gender,age"]
    for k in range(8):
        subject = f"p{k % 4}"
        write_frames(root / "clips" / f"c{k}", range(k, k + 8), "f{}.png")
        gender = "Woman" if k % 2 else "Man"
        lines.append(f"clips/c{k},{emotions[k % 4]},{subject},{gender},{25 + 10 * (k % 2)}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


TRAIN_VARIANTS = ("orig", "mirror", "warm", "cool-mirror")
TEST_VARIANTS = ("zoom", "dark")
# clear AU motion and no eps_X nuisance, 17 frames at 32x32: small enough for a 2-core CI runner
GENERATE = [
    "--frames",
    "17",
    "--size",
    "32",
    "--strength",
    "3",
    "--head-motion",
    "0",
    "--light-drift",
    "0",
    "--sensor-noise",
    "0",
    "--workers",
    "2",
    "--no-progress",
]


def make_variant_datasets(base: Path) -> dict[str, Path]:
    """`equime generate` on the variant faces: base/train_ds (4 variants of each demo person x
    the paper's 5 emotions x 6 = 240 videos) and base/test_ds (2 other variants: 120 videos)."""
    from equime.cli import main

    out = {}
    for name, variants in (("train", TRAIN_VARIANTS), ("test", TEST_VARIANTS)):
        csv = make_variant_faces(base / f"{name}_faces", variants)
        out[name] = base / f"{name}_ds"
        args = ["generate", str(csv), "--per-face", "6", "--out", str(out[name]), *GENERATE]
        assert main(args) == 0
    return out


def train_recogniser(data: Path, model: str, out: Path, cache: Path, *extra: str) -> Path:
    """`equime train` with the recipe that learns the warp videos: 8 apex-centred frames at
    32x32, lr 1e-3, one thread (bit-stable weights whatever the machine, fast on a busy one)."""
    import torch

    from equime.cli import main

    args = ["train", str(data), "--model", model, "--out", str(out), "--epochs", "30", *extra]
    args += ["--lr", "1e-3", "--frames", "8", "--size", "32", "--sampling", "apex"]
    args += ["--cache", str(cache), "--seed", "0", "--threads", "1", "--no-progress"]
    threads = torch.get_num_threads()
    try:
        assert main(args) == 0
    finally:
        torch.set_num_threads(threads)
    return out


def tiny_flow_recogniser(base: Path) -> dict[str, Path]:
    """`equime generate` (both demo faces x 5 emotions, 17 frames at 96 px: big enough for
    MediaPipe to find the face) and `equime train` STSTNet on flow for 3 epochs, one thread:
    base/data (the videos), base/model (the checkpoint), base/cache."""
    import torch

    from equime.cli import main

    data, model, cache = base / "data", base / "model", base / "cache"
    args = ["generate", "--demo", "--per-face", "1", "--frames", "17", "--size", "96"]
    assert main([*args, "--out", str(data), "--workers", "2", "--no-progress"]) == 0
    args = ["train", str(data), "--model", "ststnet", "--out", str(model), "--epochs", "3"]
    threads = torch.get_num_threads()
    try:
        assert main([*args, "--cache", str(cache), "--threads", "1", "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)
    return {"data": data, "model": model, "cache": cache}
