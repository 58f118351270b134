"""The page's controller: state shared by all browsers and every action, with no Gradio in it.

The tabs (`tab_*.py`) only wire controls to these methods, so everything a person can do on the
page is testable without a browser.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from equime.errors import EquimeError
from equime.generation.config import GenerateConfig
from equime.ui import reports
from equime.ui.jobs import RUNNING, JobRegistry
from equime.ui.preview import make_preview, new_preview_dir, slider_codes
from equime.ui.safety import Roots, check_image, extract_photos, inside, safe_name, store_upload

MY_PHOTO = "my photo"
SOURCE_DEMO, SOURCE_FOLDER, SOURCE_ZIP = (
    "demo faces",
    "a folder on this computer",
    "a zip of photos",
)


def demo_faces() -> dict[str, Path]:
    from equime.faces.sources import demo_sources

    try:
        return {s.path.stem: s.path for s in demo_sources()}
    except EquimeError:
        return {}


def balancing_fields() -> list[dataclasses.Field]:
    """Balancing settings, if this installation's GenerateConfig has any (a later stage adds)."""
    return [f for f in dataclasses.fields(GenerateConfig) if f.name.startswith("balanc")]


class Page:
    """State shared by all browsers: the roots and the job registry (plain objects, no Gradio)."""

    def __init__(self, roots: Roots) -> None:
        self.roots = roots.make()
        self.jobs = JobRegistry(self.roots.jobs)

    # --- preview -------------------------------------------------------------------------
    def face_from_upload(self, upload: str | None) -> Path:
        if not upload:
            raise EquimeError("choose a photo first")
        return store_upload(upload, self.roots.uploads / "faces")

    def face_from_demo(self, name: str) -> Path:
        faces = demo_faces()
        if name not in faces:
            raise EquimeError(f"{name}: no such demo face")
        dest = self.roots.uploads / "faces" / safe_name(faces[name].name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.is_file():
            shutil.copyfile(faces[name], dest)
        return dest

    def preview(self, face: str | None, emotion: str, values: list[float], **options: Any):
        if not face:
            raise EquimeError("choose a photo or a demo face first")
        image = check_image(inside(face, [self.roots.uploads]))
        aus = dict(zip(slider_codes(), values, strict=True))
        out = new_preview_dir(self.roots.previews)
        return make_preview(image, emotion, aus, out, **options)

    # --- datasets ------------------------------------------------------------------------
    def photo_folders(self) -> list[tuple[str, str]]:
        """(label, path) of folders a dataset may be made from: uploads and the photo roots."""
        found: list[tuple[str, str]] = []
        for root in (self.roots.uploads, *self.roots.photos):
            if not root.is_dir():
                continue
            found.append((str(root), str(root.resolve())))
            for sub in sorted(p for p in root.iterdir() if p.is_dir()):
                if not sub.name.startswith("."):
                    found.append((f"{root}/{sub.name}", str(sub.resolve())))
        return found

    def dataset_path(self, name: str) -> Path:
        if not name:
            raise EquimeError("choose a dataset")
        return inside(self.roots.datasets / safe_name(name), [self.roots.datasets])

    def start_dataset(
        self,
        source: str,
        folder: str | None,
        archive: str | None,
        name: str,
        settings: dict[str, Any],
        replace: bool = False,
    ) -> str:
        """Check everything, then start `equime generate` as a background job."""
        out = self.dataset_path(name or "dataset")
        busy = [j for j in self.dataset_jobs() if self.jobs.spec(j)["target"] == str(out)]
        if any(self.jobs.status(j).state == RUNNING for j in busy):
            raise EquimeError(f"{out.name}: a job is already making this dataset")
        if source == SOURCE_DEMO:
            kind, path = "demo", None
        elif source == SOURCE_FOLDER:
            if not folder:
                raise EquimeError("choose a folder of photos")
            readable = (self.roots.uploads.resolve(), *(p.resolve() for p in self.roots.photos))
            kind, path = "folder", str(inside(folder, readable))
        else:
            if not archive:
                raise EquimeError("upload a zip of photos first")
            from equime.faces.images import file_sha256

            stem = f"{safe_name(Path(archive).stem, 'photos')}-{file_sha256(archive)[:8]}"
            dest = inside(self.roots.uploads / stem, [self.roots.uploads])
            extract_photos(archive, dest)
            kind, path = "folder", str(dest)
        config = {"source": kind, "path": path, **settings}
        GenerateConfig(**{**config, "out": str(out)})  # check the settings before starting
        if replace and out.exists():
            shutil.rmtree(inside(out, [self.roots.datasets]))
        # one file per job: resuming an old job must not pick up a newer job's settings
        config_file = self.roots.jobs / f"config-{safe_name(out.name)}-{uuid.uuid4().hex[:8]}.json"
        config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
        argv = ["generate", "--config", str(config_file), "--out", str(out), "--no-progress"]
        return self.jobs.start("generate", argv, str(out), title=out.name)

    def dataset_jobs(self) -> list[str]:
        return [j for j in self.jobs.jobs() if self.jobs.spec(j)["kind"] == "generate"]

    # --- checking a dataset folder (real or generated) ------------------------------------
    def data_folders(self) -> list[tuple[str, str]]:
        """(label, path) of folders a check may read: the page's datasets and the photo roots."""
        found = list(self.photo_folders())
        if self.roots.datasets.is_dir():
            for sub in sorted(p for p in self.roots.datasets.iterdir() if p.is_dir()):
                if not sub.name.startswith("."):
                    found.append((f"datasets/{sub.name}", str(sub.resolve())))
        return found

    def start_check(self, folder: str | None, dataset_format: str, sheet: str | None) -> str:
        """`equime datasets check` on a readable folder, as a job (its log is the report)."""
        if not folder:
            raise EquimeError("choose a folder to check")
        readable = [self.roots.uploads, self.roots.datasets, *self.roots.photos]
        path = inside(folder, [p.resolve() for p in readable])
        report = self.roots.jobs / f"check-{safe_name(path.name)}-{uuid.uuid4().hex[:8]}.json"
        argv = ["datasets", "check", str(path), "--format", dataset_format, "--out", str(report)]
        if sheet:
            argv += ["--sheet", str(inside(sheet, [path]))]
        return self.jobs.start("check", argv, str(path), title=path.name)

    def start_report(self, dataset: str, name: str) -> str:
        if name not in reports.available_commands():
            raise EquimeError(
                f"the {name} report is not part of this EquiME installation "
                f"(no `equime {name}` command yet)"
            )
        root = self.dataset_path(dataset)
        return self.jobs.start(name, reports.report_argv(root, name), str(root), title=dataset)
