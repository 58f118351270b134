"""The Recognise tab: upload a clip, choose a trained recogniser, read its answer and the flow
image it was read from (`equime predict` as a job; unsure answers say so)."""

from __future__ import annotations

import uuid

import gradio as gr

from equime.errors import EquimeError
from equime.ui import recognise
from equime.ui.guard import guard
from equime.ui.html import friendly, progress_html
from equime.ui.jobs import DONE, RUNNING
from equime.ui.page import Page
from equime.ui.safety import inside


def build(page: Page, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(
        "Ask a trained recogniser (a checkpoint folder from `equime train` or `equime evaluate` "
        "inside the working folder) what expression a clip shows. Without an apex the frame "
        "that moves most is used; an answer unlike anything the model learnt says `unsure`."
    )
    with gr.Row():
        model = gr.Dropdown([], label="Recogniser", elem_id="rec-model", scale=3)
        onset = gr.Number(
            None, label="Onset frame (0: the first)", precision=0, elem_id="rec-onset"
        )
        apex = gr.Number(None, label="Apex frame (0: found)", precision=0, elem_id="rec-apex")
    video = gr.File(label="Clip", file_types=list(recognise.VIDEO_SUFFIXES), elem_id="rec-video")
    run = gr.Button("Recognise", variant="primary", elem_id="rec-run")
    job_state = gr.State(None)
    status = gr.HTML("", elem_id="rec-status")
    flow = gr.Image(label="Flow the answer was read from", elem_id="rec-flow", interactive=False)

    @guard(2, 1)
    def on_run(checkpoint, upload, onset_frame, apex_frame):
        if not checkpoint:
            raise EquimeError("choose a recogniser")
        if not upload:
            raise EquimeError("upload a clip first")
        folder = inside(checkpoint, [page.roots.work.resolve()])
        clip = recognise.store_video(upload, page.roots.uploads / "videos")
        out = page.roots.jobs / f"predict-{uuid.uuid4().hex[:8]}.csv"
        argv = recognise.predict_argv(folder, clip, out, onset_frame, apex_frame)
        job_id = page.jobs.start("predict", argv, str(out), title=clip.name)
        return (job_id, str(out)), progress_html(0, "Recognising…", "rec-progress")

    run.click(on_run, [model, video, onset, apex], [job_state, status])

    def poll(state):
        if not state:
            return gr.skip(), gr.skip(), gr.skip()
        job_id, out = state
        st = page.jobs.status(job_id)
        if st.state == RUNNING:
            return gr.skip(), gr.skip(), gr.skip()
        if st.state == DONE:
            text, picture = recognise.answer(inside(out, [page.roots.jobs.resolve()]))
            return None, text, picture
        return None, friendly(EquimeError(st.message.removeprefix("Failed: "))), None

    gr.Timer(1.0).tick(poll, job_state, [job_state, status, flow], show_progress="hidden")

    def refresh():
        return gr.update(choices=recognise.checkpoints(page.roots.work.resolve()))

    app.load(refresh, None, model)
    tab.select(refresh, None, model)
