"""The Check tab: is this folder a usable dataset? `equime datasets check` on it, read as text.

For a researcher before training: clips per label and subject, rows skipped and why, corrections
applied, frame rate; the last line says `N clips, M skipped`.
"""

from __future__ import annotations

import gradio as gr

from equime.errors import EquimeError
from equime.ui.guard import guard
from equime.ui.html import friendly, progress_html
from equime.ui.jobs import DONE, RUNNING
from equime.ui.page import Page

REPORT_LINES = 400


def formats() -> list[str]:
    from equime.mer.datasets import dataset_names

    return dataset_names()


def build(page: Page, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(
        "Check a dataset folder (SAMM, CASME II, CAS(ME)^3, SMIC, MiE-X, a generated EquiME "
        "folder...) before training on it: what is there, what is skipped and why."
    )
    with gr.Row():
        folder = gr.Dropdown([], label="Folder", elem_id="chk-folder", scale=3)
        kind = gr.Dropdown(formats(), value="equime", label="Format", elem_id="chk-format")
        sheet = gr.Textbox(
            "", label="Annotation sheet (optional, inside the folder)", elem_id="chk-sheet"
        )
    run = gr.Button("Check", variant="primary", elem_id="chk-run")
    job_state = gr.State(None)
    status = gr.HTML("", elem_id="chk-status")
    report = gr.Textbox("", label="Report", lines=16, interactive=False, elem_id="chk-report")

    @guard(2, 1)
    def on_run(path, fmt, sheet_path):
        job_id = page.start_check(path, fmt, sheet_path or None)
        return job_id, progress_html(0, "Checking…", "chk-progress")

    run.click(on_run, [folder, kind, sheet], [job_state, status])

    def poll(job_id: str | None):
        if not job_id:
            return gr.skip(), gr.skip(), gr.skip()
        st = page.jobs.status(job_id)
        if st.state == RUNNING:
            return gr.skip(), gr.skip(), gr.skip()
        text = page.jobs.log_tail(job_id, REPORT_LINES)
        if st.state == DONE:
            last = text.strip().splitlines()[-1] if text.strip() else "done"
            return None, f'<p id="chk-done">Finished: {last}</p>', text
        return None, friendly(EquimeError(st.message.removeprefix("Failed: "))), text

    gr.Timer(1.0).tick(poll, job_state, [job_state, status, report], show_progress="hidden")
    app.load(lambda: gr.update(choices=page.data_folders()), None, folder)
    tab.select(lambda: gr.update(choices=page.data_folders()), None, folder)
