"""The Preview tab: one clip from one photo, its AU curves and contact sheet; sliders are Z."""

from __future__ import annotations

import gradio as gr

from equime.facs.emotions import EMOTIONS
from equime.ui.guard import guard
from equime.ui.html import friendly
from equime.ui.page import MY_PHOTO, Page, demo_faces
from equime.ui.preview import prototype_values, slider_label


def build(page: Page, codes: list[str]) -> None:
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

    @guard(4, 3)
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

    @guard(5, 4)
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
