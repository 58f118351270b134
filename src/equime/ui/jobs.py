"""Long work (a dataset, a report) as a background process whose whole state lives on disk.

A job is a folder: job.json (what to run, the process id), log.txt (its output) and, once it has
ended, result.json (exit code). The page only reads these files, so a reload or even a restart of
the page finds every job again; cancelling sends Ctrl-C, and the generator keeps finished videos,
so running the same job again resumes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from equime.dataset.layout import DatasetLayout
from equime.errors import EquimeError
from equime.files import write_text_atomic

RUNNING, DONE, FAILED, CANCELLED, STOPPED = "running", "done", "failed", "cancelled", "stopped"


@dataclass
class JobStatus:
    job_id: str
    kind: str
    state: str
    done: int
    total: int | None
    message: str
    target: str

    @property
    def fraction(self) -> float:
        if self.state == DONE:
            return 1.0
        return self.done / self.total if self.total else 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRegistry:
    """Starts, lists, cancels and resumes jobs kept under one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._procs: dict[str, subprocess.Popen] = {}
        self._plan_cache: dict[str, tuple[float, int]] = {}

    def _dir(self, job_id: str) -> Path:
        path = (self.folder / job_id).resolve()
        if path.parent != self.folder.resolve() or not (path / "job.json").is_file():
            raise EquimeError(f"{job_id}: no such job")
        return path

    def start(self, kind: str, argv: list[str], target: str, title: str = "") -> str:
        """Run `equime <argv>` in a new process; `target` is the folder the job writes."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        job_id = f"{stamp}-{kind}-{uuid.uuid4().hex[:6]}"
        folder = self.folder / job_id
        folder.mkdir(parents=True)
        spec = {"id": job_id, "kind": kind, "argv": argv, "target": target, "title": title}
        write_text_atomic(folder / "job.json", json.dumps(spec, indent=2))
        self._launch(folder, spec)
        return job_id

    def _launch(self, folder: Path, spec: dict) -> None:
        (folder / "result.json").unlink(missing_ok=True)
        log = open(folder / "log.txt", "ab")  # noqa: SIM115 (the child keeps it open)
        proc = subprocess.Popen(
            [sys.executable, "-m", "equime.ui.runner", str(folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the page's terminal does not reach the job
        )
        log.close()
        spec = {**spec, "pid": proc.pid, "started": time.time()}
        write_text_atomic(folder / "job.json", json.dumps(spec, indent=2))
        self._procs[spec["id"]] = proc

    def resume(self, job_id: str) -> None:
        """Run a cancelled or stopped job again; finished work is skipped by the command itself."""
        folder = self._dir(job_id)
        if self.status(job_id).state == RUNNING:
            raise EquimeError(f"{job_id}: already running")
        self._launch(folder, json.loads((folder / "job.json").read_text(encoding="utf-8")))

    def cancel(self, job_id: str, wait: float = 10.0) -> None:
        """Ctrl-C (finished videos and metadata are written), then a hard stop if it lingers."""
        folder = self._dir(job_id)
        spec = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        if self.status(job_id).state != RUNNING:
            return
        (folder / "cancelled").touch()
        pid = spec["pid"]
        for sig, grace in ((signal.SIGINT, wait), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.time() + grace
            while time.time() < deadline:
                if not self._running(job_id, pid):
                    return
                time.sleep(0.1)

    def _running(self, job_id: str, pid: int) -> bool:
        proc = self._procs.get(job_id)
        if proc is not None and proc.pid == pid:
            return proc.poll() is None
        return _alive(pid)

    def jobs(self) -> list[str]:
        """Job ids, newest first."""
        found = [p.name for p in self.folder.iterdir() if (p / "job.json").is_file()]
        return sorted(found, reverse=True)

    def spec(self, job_id: str) -> dict:
        return json.loads((self._dir(job_id) / "job.json").read_text(encoding="utf-8"))

    def log_tail(self, job_id: str, lines: int = 5) -> str:
        path = self._dir(job_id) / "log.txt"
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        return "\n".join(text.replace("\r", "\n").strip().splitlines()[-lines:])

    def status(self, job_id: str) -> JobStatus:
        folder = self._dir(job_id)
        spec = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        result_file = folder / "result.json"
        if result_file.is_file():
            code = json.loads(result_file.read_text(encoding="utf-8")).get("returncode", 1)
            if code == 0:
                state = DONE
            elif (folder / "cancelled").is_file():
                state = CANCELLED
            else:
                state = FAILED
        elif "pid" in spec and self._running(job_id, spec["pid"]):
            state = RUNNING
        else:
            state = CANCELLED if (folder / "cancelled").is_file() else STOPPED
        if state == RUNNING:
            (folder / "cancelled").unlink(missing_ok=True)
        done, total = self._progress(spec)
        message = self._message(spec, state, done, total, job_id)
        return JobStatus(job_id, spec["kind"], state, done, total, message, spec["target"])

    def _progress(self, spec: dict) -> tuple[int, int | None]:
        """Videos finished / planned, read from the dataset folder (reports have no count)."""
        if spec["kind"] != "generate":
            return 0, None
        layout = DatasetLayout(Path(spec["target"]))
        done = len(list(layout.rows.glob("*.json"))) if layout.rows.is_dir() else 0
        total = None
        if layout.plan.is_file():
            mtime = layout.plan.stat().st_mtime
            cached = self._plan_cache.get(spec["target"])
            if cached and cached[0] == mtime:
                total = cached[1]
            else:
                try:
                    total = len(pd.read_parquet(layout.plan, columns=["sample_id"]))
                    self._plan_cache[spec["target"]] = (mtime, total)
                except (OSError, ValueError):
                    total = None
        return (min(done, total) if total else done), total

    def _message(self, spec: dict, state: str, done: int, total: int | None, job_id: str) -> str:
        if spec["kind"] == "generate":
            count = f"{done} of {total} videos" if total else "preparing faces"
        else:
            count = f"equime {spec['kind']}"
        words = {
            RUNNING: f"Running: {count}",
            DONE: f"Finished: {count}",
            CANCELLED: f"Cancelled: {count}. Press Resume to carry on where it stopped.",
            STOPPED: f"Stopped (the page or computer restarted?): {count}. Press Resume.",
            FAILED: "Failed: " + (self._error_line(job_id) or "see the log"),
        }
        return words[state]

    def _error_line(self, job_id: str) -> str:
        for line in reversed(self.log_tail(job_id, 40).splitlines()):
            if line.startswith("equime: error:"):
                return line.removeprefix("equime: error:").strip()
        return ""

    def shutdown(self) -> None:
        """Cancel the jobs this page started (used when the page itself stops, and by tests)."""
        for job_id in list(self._procs):
            self.cancel(job_id, wait=5.0)
