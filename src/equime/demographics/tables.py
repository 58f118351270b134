"""Label tables keyed by source image: CelebA attribute files and CSVs (FairFace-style or plain).

A table is read and checked completely before anything is written: every bad row is named (file and
line), so a researcher fixes the file once instead of meeting one error per run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from equime.attributes.labels import LabelError, normalise_gender, normalise_race, parse_age
from equime.errors import EquimeError

KEY_COLUMNS = (
    "image",
    "file",
    "file_name",
    "filename",
    "path",
    "image_id",
    "source_path",
    "face_id",
    "source_sha256",
    "sha256",
)
ALIASES = {
    "gender": ("gender", "sex", "male"),
    "race": ("race", "ethnicity"),
    "age": ("age", "age_range", "age_years"),
}
TABLE_COLUMNS = ["key", "line", "gender", "race", "age", "age_note", "young", "smiling"]
_SHOWN = 5
DEMO_TABLE = "demo"


def _fail(path: Path, what: str, problems: list[str]) -> None:
    shown = "; ".join(problems[:_SHOWN]) + ("; ..." if len(problems) > _SHOWN else "")
    raise EquimeError(f"{path}: {len(problems)} {what} ({shown})")


def is_celeba_file(path: Path) -> bool:
    """CelebA's format: a count on line 1, attribute names on line 2, then `file v1 v2 ...`."""
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline().strip()
    except (OSError, UnicodeDecodeError):
        return False
    return first.isdigit()


def read_celeba(path: Path) -> pd.DataFrame:
    """`Male` -> gender; `Young` and `Smiling` kept as they are (CelebA gives no age in years)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise EquimeError(f"{path}: expected a count line and an attribute-name line")
    names = lines[1].split()
    missing = [n for n in ("Male",) if n not in names]
    if missing:
        raise EquimeError(f"{path}: line 2 has no {', '.join(missing)} attribute")
    rows, problems = [], []
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(names) + 1:
            problems.append(f"line {number}: {len(fields) - 1} values for {len(names)} names")
            continue
        values = dict(zip(names, fields[1:], strict=True))
        bad = [n for n in ("Male", "Young", "Smiling") if values.get(n, "1") not in ("1", "-1")]
        if bad:
            problems.append(f"line {number}: {', '.join(bad)} must be 1 or -1")
            continue
        rows.append(
            {
                "key": fields[0],
                "line": number,
                "gender": normalise_gender(values["Male"]),
                "race": "",
                "age": "",
                "age_note": "",
                "young": {"1": "yes", "-1": "no"}.get(values.get("Young", ""), ""),
                "smiling": {"1": "yes", "-1": "no"}.get(values.get("Smiling", ""), ""),
            }
        )
    if problems:
        _fail(path, "bad row(s)", problems)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def read_csv_table(path: Path) -> pd.DataFrame:
    """A CSV with a key column (image/file/path/face_id/sha256) and gender/race/age columns."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [(name or "").strip() for name in reader.fieldnames or []]
        lower = {name.lower(): name for name in header}
        raw = list(reader)
    found = ", ".join(repr(c) for c in header) or "none"
    key_col = next((lower[k] for k in KEY_COLUMNS if k in lower), None)
    if key_col is None:
        raise EquimeError(
            f"{path}: no image key column (one of {', '.join(KEY_COLUMNS)}; found {found})"
        )
    attr_cols = {
        attr: next((lower[a] for a in names if a in lower), None) for attr, names in ALIASES.items()
    }
    if not any(attr_cols.values()):
        raise EquimeError(f"{path}: no gender, race or age column (found {found})")
    rows, problems = [], []
    for number, record in enumerate(raw, start=2):
        record = {(k or "").strip(): v for k, v in record.items()}
        key = (record.get(key_col) or "").strip()
        if not key:
            problems.append(f"line {number}: empty {key_col}")
            continue
        try:
            age, note = parse_age(record.get(attr_cols["age"] or "", ""))
            row = {
                "key": key,
                "line": number,
                "gender": normalise_gender(record.get(attr_cols["gender"] or "", "")),
                "race": normalise_race(record.get(attr_cols["race"] or "", "")),
                "age": age,
                "age_note": note,
                "young": "",
                "smiling": "",
            }
        except LabelError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        rows.append(row)
    if problems:
        _fail(path, "bad row(s)", problems)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def check_conflicts(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """One label set per image: exact repeats collapse; different labels for a key: error."""
    problems = []
    for key, group in table.groupby("key", sort=True):
        if len(group) < 2:
            continue
        labels = group[["gender", "race", "age", "young", "smiling"]].drop_duplicates()
        if len(labels) > 1:
            lines = ", ".join(str(n) for n in group["line"])
            problems.append(f"{key!r} on lines {lines}")
    if problems:
        _fail(path, "image(s) with conflicting labels", problems)
    return table.drop_duplicates("key", keep="first").reset_index(drop=True)


def demo_table() -> pd.DataFrame:
    """The demo photos' public-record labels (equime/data/demo_faces.json), by SHA-256."""
    from equime.faces.sources import demo_sources

    rows = []
    for line, source in enumerate(demo_sources(), start=1):
        age, note = parse_age(source.attributes.get("age", ""))
        rows.append(
            {
                "key": source.sha256,
                "line": line,
                "gender": normalise_gender(source.attributes.get("gender", "")),
                "race": normalise_race(source.attributes.get("race", "")),
                "age": age,
                "age_note": note,
                "young": "",
                "smiling": "",
            }
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def read_label_table(path: str | Path) -> pd.DataFrame:
    """Any supported table -> one row per key with normalised labels (columns TABLE_COLUMNS).

    `demo` names the shipped public-record labels of the demo photos."""
    if str(path) == DEMO_TABLE:
        return demo_table()
    path = Path(path)
    if not path.is_file():
        raise EquimeError(f"{path}: label table not found")
    table = read_celeba(path) if is_celeba_file(path) else read_csv_table(path)
    if table.empty:
        raise EquimeError(f"{path}: no labelled rows")
    return check_conflicts(path, table)
