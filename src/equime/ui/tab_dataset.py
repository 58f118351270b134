"""The Dataset tab: photos and settings in, an `equime generate` job, results to browse."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from equime.errors import EquimeError
from equime.facs.emotions import PAPER_EMOTIONS, PROTOTYPES
from equime.ui import browse
from equime.ui.guard import guard
from equime.ui.html import progress_html
from equime.ui.jobs import DONE, RUNNING
from equime.ui.page import SOURCE_DEMO, SOURCE_FOLDER, SOURCE_ZIP, Page, balancing_fields
from equime.ui.safety import inside, safe_name


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
    with gr.Row():
        long = gr.Checkbox(
            False,
            label="Long videos: several micro- and macro-expressions, blinks and head motion in "
            "one take, with exact intervals (for spotting)",
            elem_id="ds-long",
            scale=3,
        )
        duration = gr.Number(
            20, minimum=4, label="Length of a long video (seconds)", elem_id="ds-duration"
        )
        difficulty = gr.Radio(
            [
                ("easy: only the expressions and blinks", "easy"),
                ("realistic: talking, head turns, a hand, camera noise", "realistic"),
                ("hard: more of them", "hard"),
            ],
            value="realistic",
            label="Long videos: how hard to spot",
            elem_id="ds-difficulty",
        )
    faces = gr.Radio(
        [("the largest face", "largest"), ("every face, each a person of its own", "all")],
        value="largest",
        label="Photos with several people: use",
        elem_id="ds-faces",
    )
    components = [emotions, per_face, limit, seed, frames, fps, size, workers, long, duration]
    components.append(difficulty)
    names = ["emotions", "per_face", "limit", "seed", "n_frames", "fps", "size", "workers"]
    names += ["long", "long_duration", "long_difficulty"]
    components.append(faces)
    names.append("faces")
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
    given = dict(zip(names, values, strict=True))
    if given.pop("long", False):  # GenerateConfig.long: the settings of long videos, None = clips
        settings["long"] = {
            "duration_s": float(given.get("long_duration") or 20),
            "preset": given.get("long_difficulty") or "realistic",
        }
    given.pop("long_duration", None)
    given.pop("long_difficulty", None)
    for name, value in given.items():
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


def build(page: Page, app: gr.Blocks) -> None:
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

    @guard(2, 1)
    def on_run(src, fold, arc, nm, rep, *values):
        settings_now = _clean_settings(names, list(values))
        job_id = page.start_dataset(src, fold, arc, nm, settings_now, replace=bool(rep))
        return job_choices(job_id), ""

    run.click(on_run, [source, folder, archive, name, replace, *settings], [job, error])

    @guard(1, 0)
    def on_cancel(job_id):
        if job_id:
            page.jobs.cancel(job_id)
        return ""

    @guard(1, 0)
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
