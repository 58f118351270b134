"""`equime datasets check` on every miniature dataset: the counts and reasons it prints, its
JSON report, and one line with exit status 2 on a folder that is not a dataset."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from mer_fixtures import make_casme2, make_casme3, make_miex, make_samm, make_smic

from equime.cli import main


def check(capsys, tmp_path, *args: str) -> tuple[int, list[str], dict]:
    out = tmp_path / "report.json"
    code = main(["datasets", "check", *args, "--out", str(out)])
    lines = capsys.readouterr().out.strip().splitlines()
    return code, lines, json.loads(out.read_text()) if out.exists() else {}


def test_check_samm(tmp_path, capsys) -> None:
    code, lines, report = check(
        capsys, tmp_path, str(make_samm(tmp_path / "d")), "--format", "samm"
    )
    assert code == 0 and lines[-1] == "4 clips, 2 skipped"
    assert "frame rate: 200 fps" in lines
    assert "clips per label: anger 1, contempt 1, happiness 1, others 1" in lines
    assert "clips per subject (2 subjects): 006 2, 007 2" in lines
    assert any(line.startswith("apexes: sheet 3, midpoint 1; 1 not coded") for line in lines)
    assert any(line.startswith("  missing frames: 1 (008_1_1: onset frame 40") for line in lines)
    assert any(line.startswith("  no frame folder: 1 (009_9_9") for line in lines)
    assert report["clips"] == 4 and report["skipped_by_reason"] == {
        "missing frames": 1,
        "no frame folder": 1,
    }
    assert report["fps"] == [200.0] and report["usable"] is True
    assert "equime" in report["versions"]


def test_check_casme2_megc_clips(tmp_path, capsys) -> None:
    root = make_casme2(tmp_path / "d", 2, megc=True)
    code, lines, report = check(capsys, tmp_path, str(root), "--format", "casme2")
    assert code == 0 and lines[-1] == "9 clips, 0 skipped"
    assert report["per_label"] == {
        "happiness": 2,
        "disgust": 2,
        "repression": 1,
        "others": 1,
        "surprise": 1,
        "fear": 1,
        "sadness": 1,
    }
    assert report["apex_source"] == {"sheet": 7, "midpoint": 2}


def test_check_casme3_with_and_without_errata(tmp_path, capsys) -> None:
    root = str(make_casme3(tmp_path / "d"))
    code, lines, report = check(capsys, tmp_path, root, "--format", "casme3")
    assert code == 0 and lines[-1] == "6 clips, 0 skipped"
    assert "errata applied: 3" in lines and "frame rate: 30 fps" in lines
    assert {(e["clip"], e["field"], e["was"], e["now"]) for e in report["errata"]} == {
        ("spNO.216/d", "onset", "3647", "2647"),
        ("spNO.216/e", "onset", "0", "1"),
        ("spNO.216/e", "apex", "0", "1"),
    }
    code, lines, report = check(capsys, tmp_path, root, "--format", "casme3", "--no-errata")
    assert code == 0 and lines[-1] == "4 clips, 2 skipped"
    assert report["skipped_by_reason"] == {"missing frames": 2} and report["errata"] == []


def test_check_casme3_full_sheet(tmp_path, capsys) -> None:
    root = str(make_casme3(tmp_path / "d", full_sheet=True))
    args = [root, "--format", "casme3", "--sheet", "CAS(ME)3_part_A_v2.xlsx"]
    code, lines, report = check(capsys, tmp_path, *args)
    assert code == 0 and lines[-1] == "3 clips, 1 skipped"
    assert report["skipped_by_reason"] == {"macro-expression": 1}
    code, lines, _ = check(capsys, tmp_path, *args, "--option", "expression=all")
    assert lines[-1] == "3 clips, 1 skipped"
    assert any(line.startswith("  no emotion label: 1 (spNO.1/a/30-55") for line in lines)


def test_check_smic_and_miex(tmp_path, capsys) -> None:
    code, lines, report = check(
        capsys, tmp_path, str(make_smic(tmp_path / "s")), "--format", "smic"
    )
    assert code == 0 and lines[-1] == "5 clips, 1 skipped"
    assert "frame rate: 25 and 100 fps" in lines and report["apexes_to_estimate"] == 5
    code, lines, _ = check(
        capsys, tmp_path, str(tmp_path / "s"), "--format", "smic", "--option", "modality=VIS"
    )
    assert lines[-1] == "1 clips, 0 skipped"
    code, lines, report = check(
        capsys, tmp_path, str(make_miex(tmp_path / "m")), "--format", "miex"
    )
    assert code == 0 and lines[-1] == "6 clips, 0 skipped"
    assert "frame rate: unknown fps" in lines and report["apex_source"] == {"last": 6}


def test_check_without_out_prints_and_writes_nothing(tmp_path, capsys, monkeypatch) -> None:
    """Without --out the report is printed only: nothing lands in the folder it was started in."""
    data = make_miex(tmp_path / "m")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["datasets", "check", str(data), "--format", "miex"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "6 clips, 0 skipped" and not any(x.startswith("report:") for x in lines)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_check_with_out_names_the_json(tmp_path, capsys) -> None:
    out = tmp_path / "reports" / "miex.json"  # a folder that does not exist yet
    data = str(make_miex(tmp_path / "m"))
    assert main(["datasets", "check", data, "--format", "miex", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2:] == [f"report: {out}", "6 clips, 0 skipped"]
    assert json.loads(out.read_text())["clips"] == 6


@pytest.mark.parametrize("fmt", ["samm", "casme2", "casme3", "smic", "miex"])
def test_check_on_a_folder_that_is_not_a_dataset(tmp_path, capsys, monkeypatch, fmt: str) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "notes.xlsx").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert main(["datasets", "check", str(tmp_path / "photos"), "--format", fmt]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "photos" in captured.err
    assert not (tmp_path / f"datasets-check-{fmt}.json").exists()


def test_check_from_the_shell(tmp_path) -> None:
    """The real command line: one line on stderr, no traceback, exit status 2."""
    (tmp_path / "photos").mkdir()
    cmd = [sys.executable, "-m", "equime", "datasets", "check", "photos", "--format", "casme2"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "equime: error: photos: no annotation sheet (CASME2-coding*.xlsx or "
        "CASME2*coding*.xls* or CASME2*.csv)"
    ]
