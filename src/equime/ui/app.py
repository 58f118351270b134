"""The page: three tabs (Preview, Dataset, Reports) wired to the plain functions of equime.ui.

Every handler turns an EquimeError into one friendly line on the page (never a traceback); long
work goes to the job registry and the page polls it once a second, so nothing blocks.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from equime.errors import EquimeError
from equime.facs.emotions import EMOTIONS, PAPER_EMOTIONS, PROTOTYPES
from equime.generation.config import GenerateConfig
from equime.ui import browse, reports
from equime.ui.jobs import DONE, RUNNING, JobRegistry
from equime.ui.preview import (
    make_preview,
    new_preview_dir,
    prototype_values,
    slider_codes,
    slider_label,
)
from equime.ui.safety import Roots, check_image, extract_photos, inside, safe_name, store_upload

log = logging.getLogger(__name__)

UPLOAD_LIMIT = "50mb"
MY_PHOTO = "my photo"
SOURCE_DEMO, SOURCE_FOLDER, SOURCE_ZIP = (
    "demo faces",
    "a folder on this computer",
    "a zip of photos",
)
CSS = """
#ds-progress progress, #rep-progress progress { width: 100%; height: 1.2em; }
.equime-error { color: #b00020; font-weight: 600; }
"""


def friendly(exc: Exception) -> str:
    """One line a person can act on (the full story goes to the server log)."""
    if isinstance(exc, EquimeError):
        text = str(exc)
    else:
        log.exception("unexpected error in the page")
        text = f"something went wrong ({type(exc).__name__}); the server log has the details"
    return f'<p class="equime-error">⚠️ {text}</p>'


def progress_html(fraction: float, message: str, element: str) -> str:
    value = round(100 * fraction)
    return (
        f'<div id="{element}-box"><progress id="{element}-bar" value="{value}" max="100">'
        f'{value}%</progress><p id="{element}-text">{message}</p></div>'
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

    def start_report(self, dataset: str, name: str) -> str:
        if name not in reports.available_commands():
            raise EquimeError(
                f"the {name} report is not part of this EquiME installation "
                f"(no `equime {name}` command yet)"
            )
        root = self.dataset_path(dataset)
        return self.jobs.start(name, reports.report_argv(root, name), str(root), title=dataset)


def _guard(outputs: int, error_at: int) -> Callable:
    """Wrap a handler so an error becomes one friendly line in output `error_at`."""

    def wrap(fn: Callable) -> Callable:
        def handler(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                result = [gr.skip()] * outputs
                result[error_at] = friendly(exc)
                return tuple(result) if outputs > 1 else result[0]

        return handler

    return wrap


def build_app(roots: Roots) -> gr.Blocks:
    """The whole page for one set of roots."""
    page = Page(roots)
    codes = slider_codes()
    with gr.Blocks(title="EquiME", analytics_enabled=False) as app:
        app.equime_page = page  # for tests and shutdown
        gr.Markdown(
            "# EquiME\nSynthetic micro-expression videos from face photos. "
            "**Preview** one clip, make a **Dataset**, read its **Reports**."
        )
        with gr.Tab("Preview", id="tab-preview"):
            _preview_tab(page, codes)
        with gr.Tab("Dataset", id="tab-dataset"):
            _dataset_tab(page, app)
        with gr.Tab("Reports", id="tab-reports"):
            _reports_tab(page, app)
    return app


def _preview_tab(page: Page, codes: list[str]) -> None:
    face_state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(
                label="Face photo (jpg, png, webp)",
                file_types=[".jpg", ".jpeg", ".png", ".webp"],
                type="filepath",
                elem_id="preview-upload",
            )
            demo = gr.Radio(
                [MY_PHOTO, *demo_faces()],
                value=None,
                label="…or a demo face",
                elem_id="preview-demo",
            )
            face_view = gr.Image(
                label="Face", interactive=False, height=220, elem_id="preview-face"
            )
            status = gr.HTML("", elem_id="preview-status")
        with gr.Column(scale=1):
            emotion = gr.Dropdown(
                [*EMOTIONS, "neutral"],
                value="happiness",
                label="Emotion",
                elem_id="preview-emotion",
            )
            intensity = gr.Slider(
                0.25,
                2.5,
                value=1.0,
                step=0.05,
                label="Intensity (x all AUs)",
                elem_id="preview-intensity",
            )
            seconds = gr.Slider(
                1.0,
                8.0,
                value=2.0,
                step=0.5,
                label="Clip length (seconds)",
                elem_id="preview-seconds",
            )
            fps = gr.Radio(
                [12, 24, 25, 30], value=24, label="Frames per second", elem_id="preview-fps"
            )
            size = gr.Radio(
                [128, 256, 512], value=256, label="Video size (pixels)", elem_id="preview-size"
            )
            seed = gr.Number(0, precision=0, label="Seed", elem_id="preview-seed")
            generate = gr.Button("Generate preview", variant="primary", elem_id="preview-generate")
    with gr.Accordion("Action Units (start at the emotion's prototype; 0 = off)", open=False):
        with gr.Row():
            reset = gr.Button("Reset to prototype", size="sm")
            draw = gr.Button("Random draw, as a dataset would", size="sm")
        start = prototype_values("happiness")
        sliders = [
            gr.Slider(0.0, 1.0, value=start[c], step=0.01, label=slider_label(c), elem_id=f"au-{c}")
            for c in codes
        ]
    with gr.Row():
        video = gr.Video(
            label="Preview clip",
            autoplay=True,
            loop=True,
            interactive=False,
            height=360,
            elem_id="preview-video",
        )
        curves = gr.Image(label="AU curves", interactive=False, elem_id="preview-curves")
    summary = gr.Markdown("", elem_id="preview-summary")
    sheet = gr.Image(
        label="Contact sheet (onset to offset; last column: what moved)",
        interactive=False,
        elem_id="preview-sheet",
    )

    def on_upload(path: str | None):
        if not path:
            return None, None, gr.skip(), "", gr.skip()
        try:
            face = page.face_from_upload(path)
        except Exception as exc:
            return None, None, gr.skip(), friendly(exc), None
        return str(face), str(face), MY_PHOTO, "", gr.skip()

    @_guard(4, 3)
    def on_demo(name: str | None):
        if not name or name == MY_PHOTO:
            return gr.skip(), gr.skip(), gr.skip(), ""
        face = page.face_from_demo(name)
        return str(face), str(face), None, ""

    upload.upload(on_upload, upload, [face_state, face_view, demo, status, upload])
    upload.clear(lambda: (None, None, ""), None, [face_state, face_view, status])
    demo.change(on_demo, demo, [face_state, face_view, upload, status])

    def values(name: str, draw_seed: int | None = None) -> list[float]:
        table = prototype_values(name, draw_seed)
        return [table[c] for c in codes]

    emotion.change(lambda e: values(e), emotion, sliders)
    reset.click(lambda e: values(e), emotion, sliders)
    draw.click(lambda e, s: values(e, int(s or 0)), [emotion, seed], sliders)

    @_guard(5, 4)
    def on_generate(face, emo, inten, secs, rate, px, sd, *au_values):
        result = page.preview(
            face,
            emo,
            list(au_values),
            intensity=float(inten),
            seconds=float(secs),
            fps=float(rate),
            size=int(px),
            seed=int(sd or 0),
        )
        return str(result.video), str(result.sheet), str(result.curves), result.summary, ""

    generate.click(
        on_generate,
        [face_state, emotion, intensity, seconds, fps, size, seed, *sliders],
        [video, sheet, curves, summary, status],
    )


def _settings_inputs() -> tuple[list[gr.components.Component], list[str]]:
    """Dataset settings as (components, GenerateConfig field names), balancing included."""
    emotions = gr.CheckboxGroup(
        list(PROTOTYPES), value=list(PAPER_EMOTIONS), label="Emotions", elem_id="ds-emotions"
    )
    with gr.Row():
        per_face = gr.Number(
            1, precision=0, minimum=1, label="Videos per face and emotion", elem_id="ds-per-face"
        )
        limit = gr.Number(
            None, precision=0, minimum=1, label="Use at most this many faces", elem_id="ds-limit"
        )
        seed = gr.Number(0, precision=0, label="Seed", elem_id="ds-seed")
    with gr.Row():
        frames = gr.Number(
            161, precision=0, minimum=16, label="Frames per clip", elem_id="ds-frames"
        )
        fps = gr.Number(24, minimum=1, label="Frames per second", elem_id="ds-fps")
        size = gr.Radio([128, 256, 512], value=256, label="Video size (pixels)", elem_id="ds-size")
        workers = gr.Number(
            0, precision=0, minimum=0, label="Workers (0 = all cores)", elem_id="ds-workers"
        )
    components = [emotions, per_face, limit, seed, frames, fps, size, workers]
    names = ["emotions", "per_face", "limit", "seed", "n_frames", "fps", "size", "workers"]
    balance = balancing_fields()
    with gr.Accordion("Balancing", open=False):
        if not balance:
            gr.Markdown("Balancing is not available in this version of EquiME.")
        for f in balance:
            components.append(_setting_input(f))
            names.append(f.name)
    return components, names


def _setting_input(f: dataclasses.Field) -> gr.components.Component:
    """A control for a config field this page does not know by name (e.g. balancing)."""
    default = f.default if f.default is not dataclasses.MISSING else None
    label = f.name.replace("_", " ").capitalize()
    elem_id = f"ds-{f.name.replace('_', '-')}"
    if isinstance(default, bool):
        return gr.Checkbox(default, label=label, elem_id=elem_id)
    if isinstance(default, int | float):
        return gr.Number(default, label=label, elem_id=elem_id)
    if isinstance(default, tuple | list) or default is None:
        return gr.Textbox(
            "",
            label=label,
            placeholder="comma list, e.g. gender,race (empty: off)",
            elem_id=elem_id,
        )
    return gr.Textbox(str(default), label=label, elem_id=elem_id)


def _clean_settings(names: list[str], values: list[Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for name, value in zip(names, values, strict=True):
        if value is None or value == "":
            continue
        if name in {"per_face", "limit", "seed", "n_frames", "size", "workers"}:
            value = int(value)
        elif name == "fps":
            value = float(value)
        elif name == "emotions":
            if not value:
                raise EquimeError("choose at least one emotion")
            value = list(value)
        settings[name] = value
    return settings


def _dataset_tab(page: Page, app: gr.Blocks) -> None:
    gr.Markdown("### 1. Photos")
    source = gr.Radio(
        [SOURCE_DEMO, SOURCE_FOLDER, SOURCE_ZIP],
        value=SOURCE_DEMO,
        label="Make videos from",
        elem_id="ds-source",
    )
    folder = gr.Dropdown(
        [],
        label="Folder of photos (under the folders this page may use)",
        visible=False,
        elem_id="ds-folder",
    )
    archive = gr.File(
        label="Zip of photos", file_types=[".zip"], type="filepath", visible=False, elem_id="ds-zip"
    )
    gr.Markdown("### 2. Settings")
    with gr.Row():
        name = gr.Textbox("my-dataset", label="Dataset name", elem_id="ds-name", scale=3)
        replace = gr.Checkbox(
            False, label="Replace a dataset of this name", elem_id="ds-replace", scale=1
        )
    settings, names = _settings_inputs()
    gr.Markdown("### 3. Run")
    with gr.Row():
        run = gr.Button("Run", variant="primary", elem_id="ds-run")
        cancel = gr.Button("Cancel", elem_id="ds-cancel")
        resume = gr.Button("Resume", elem_id="ds-resume")
    job = gr.Dropdown([], label="Job", elem_id="ds-job")
    progress = gr.HTML(progress_html(0, "No job yet.", "ds-progress"), elem_id="ds-progress")
    error = gr.HTML("", elem_id="ds-error")
    log_box = gr.Textbox("", label="Log (last lines)", lines=3, interactive=False, elem_id="ds-log")
    gr.Markdown("### 4. Results")
    dataset = gr.Dropdown([], label="Dataset", elem_id="ds-dataset")
    with gr.Row():
        filters = {
            key: gr.Dropdown(
                [browse.ALL],
                value=browse.ALL,
                label=key.capitalize(),
                visible=False,
                elem_id=f"ds-filter-{key}",
            )
            for key in browse.FILTERS
        }
    count = gr.Markdown("", elem_id="ds-count")
    table = gr.Dataframe(
        pd.DataFrame(columns=browse.SHOWN[:3]),
        interactive=False,
        elem_id="ds-table",
        max_height=320,
    )
    with gr.Row():
        sample = gr.Dropdown([], label="Watch a video", elem_id="ds-sample")
        csv = gr.DownloadButton("Download metadata (CSV)", value=None, elem_id="ds-csv")
    sample_video = gr.Video(
        label="Video",
        interactive=False,
        autoplay=True,
        loop=True,
        height=300,
        elem_id="ds-sample-video",
    )
    last_state = gr.State("")

    def on_source(choice: str):
        return (
            gr.update(visible=choice == SOURCE_FOLDER, choices=page.photo_folders()),
            gr.update(visible=choice == SOURCE_ZIP),
        )

    source.change(on_source, source, [folder, archive])

    def job_choices(selected: str | None = None):
        jobs = page.dataset_jobs()
        choices = [(f"{page.jobs.spec(j)['title']} ({j})", j) for j in jobs]
        return gr.update(choices=choices, value=selected or (jobs[0] if jobs else None))

    @_guard(2, 1)
    def on_run(src, fold, arc, nm, rep, *values):
        settings_now = _clean_settings(names, list(values))
        job_id = page.start_dataset(src, fold, arc, nm, settings_now, replace=bool(rep))
        return job_choices(job_id), ""

    run.click(on_run, [source, folder, archive, name, replace, *settings], [job, error])

    @_guard(1, 0)
    def on_cancel(job_id):
        if job_id:
            page.jobs.cancel(job_id)
        return ""

    @_guard(1, 0)
    def on_resume(job_id):
        if not job_id:
            raise EquimeError("choose a job to resume")
        page.jobs.resume(job_id)
        return ""

    cancel.click(on_cancel, job, error)
    resume.click(on_resume, job, error)

    def poll(job_id: str | None, seen: str, current: str | None):
        if not job_id:
            return progress_html(0, "No job yet.", "ds-progress"), "", seen, gr.skip()
        status = page.jobs.status(job_id)
        html = progress_html(status.fraction, status.message, "ds-progress")
        marker = f"{job_id}:{status.state}"
        datasets_update = gr.skip()
        if marker != seen and status.state != RUNNING:
            name_done = Path(status.target).name
            names_now = browse.list_datasets(page.roots.datasets)
            pick = name_done if status.state == DONE and name_done in names_now else current
            datasets_update = gr.update(choices=names_now, value=pick)
        return html, page.jobs.log_tail(job_id), marker, datasets_update

    timer = gr.Timer(1.0)
    timer.tick(
        poll,
        [job, last_state, dataset],
        [progress, log_box, last_state, dataset],
        show_progress="hidden",
    )

    def load_results(ds: str | None, *chosen: str):
        empty = (gr.skip(),) * len(filters)
        if not ds:
            return (*empty, None, "", gr.update(choices=[], value=None), None)
        root = page.dataset_path(ds)
        meta = browse.load_metadata(root)
        choices = browse.filter_choices(meta)
        updates, selected = [], {}
        for (key, _), value in zip(filters.items(), chosen, strict=True):
            options = choices[key]
            value = value if value in options else browse.ALL
            selected[key] = value
            updates.append(
                gr.update(
                    choices=[browse.ALL, *options],
                    value=value,
                    visible=bool(options),
                    interactive=bool(options),
                )
            )
        rows = browse.apply_filters(meta, selected)
        out = page.roots.datasets / ds / ".equime" / "tmp-ui"
        out.mkdir(parents=True, exist_ok=True)
        csv_path = out / f"{safe_name(ds)}-metadata.csv"
        rows.to_csv(csv_path, index=False)
        ids = list(rows["id"]) if "id" in rows else []
        note = f"{len(rows)} of {len(meta)} videos shown."
        return (
            *updates,
            browse.shown_columns(rows),
            note,
            gr.update(choices=ids, value=None),
            str(csv_path),
        )

    result_outputs = [*filters.values(), table, count, sample, csv]
    dataset.change(load_results, [dataset, *filters.values()], result_outputs)
    for component in filters.values():
        component.input(load_results, [dataset, *filters.values()], result_outputs)

    def show_sample(ds: str | None, sample_id: str | None):
        if not ds or not sample_id:
            return None
        root = page.dataset_path(ds)
        meta = browse.load_metadata(root)
        match = meta[meta["id"] == sample_id]
        if match.empty:
            return None
        return str(inside(root / match["file_name"].iloc[0], [root]))

    sample.change(show_sample, [dataset, sample], sample_video)

    def on_load():
        names_now = browse.list_datasets(page.roots.datasets)
        return job_choices(), gr.update(choices=names_now)

    app.load(on_load, None, [job, dataset])


def _reports_tab(page: Page, app: gr.Blocks) -> None:
    gr.Markdown("Run a report on a dataset; its plots and tables appear below.")
    dataset = gr.Dropdown([], label="Dataset", elem_id="rep-dataset")
    with gr.Row():
        buttons = {
            name: gr.Button(f"Run {name}", elem_id=f"rep-{name}") for name in reports.REPORTS
        }
    job_state = gr.State(None)
    status = gr.HTML("", elem_id="rep-status")
    gallery = gr.Gallery(
        label="Plots", columns=2, object_fit="contain", height=520, elem_id="rep-gallery"
    )
    text = gr.Markdown("", elem_id="rep-md")

    def show(ds: str | None):
        if not ds:
            return [], ""
        root = page.dataset_path(ds)
        pngs, md = [], []
        for name in reports.REPORTS:
            p, m = reports.collect(reports.report_dir(root, name))
            pngs += [(str(x), f"{name}: {x.name}") for x in p]
            if m:
                md.append(m)
        return pngs, "\n\n---\n\n".join(md)

    for name, button in buttons.items():

        @_guard(2, 1)
        def on_click(ds, report=name):
            job_id = page.start_report(ds, report)
            return job_id, progress_html(0, f"Running equime {report}…", "rep-progress")

        button.click(on_click, dataset, [job_state, status])

    def poll(job_id: str | None, ds: str | None):
        if not job_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        st = page.jobs.status(job_id)
        if st.state == RUNNING:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        pngs, md = show(ds)
        line = st.message if st.state == DONE else friendly(EquimeError(st.message))
        return None, line, pngs, md

    timer = gr.Timer(1.0)
    timer.tick(
        poll, [job_state, dataset], [job_state, status, gallery, text], show_progress="hidden"
    )
    dataset.change(show, dataset, [gallery, text])
    app.load(lambda: gr.update(choices=browse.list_datasets(page.roots.datasets)), None, dataset)


def launch(
    roots: Roots, host: str = "127.0.0.1", port: int | None = None, block: bool = True
) -> gr.Blocks:
    """Start the page; with block=False, return at once (tests, embedding)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app = build_app(roots)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        allowed_paths=[str(roots.work.resolve())],
        max_file_size=UPLOAD_LIMIT,
        prevent_thread_lock=not block,
        ssr_mode=False,
        share=False,
        inbrowser=False,
        quiet=not block,
        footer_links=[],
        css=CSS,
    )
    return app
