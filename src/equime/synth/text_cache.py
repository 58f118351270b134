"""T5 prompt embeddings kept on disk, one file per unique (text, text encoder, length, dtype).

A dataset has few distinct prompts (seven emotion templates times a handful of intensity words)
but thousands of videos; T5-XXL is the LTX pipeline's largest part (4.7 B parameters), so each
prompt is encoded once and read back for every later video and every later run.

The key names the text encoder by its files (a local folder: the resolved path plus each
tokenizer / text-encoder file's name, size and modification time, so a rebuilt model is a new
key) or by its hub id. Imports torch only inside functions, like the rest of the LTX backend.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from equime.errors import EquimeError
from equime.faces.model import cache_dir
from equime.files import write_atomic

PARTS = ("text_encoder", "tokenizer")


def default_folder() -> Path:
    return cache_dir() / "ltx-text"


def model_key(model: str) -> str:
    """What identifies the text encoder a model folder or hub id holds."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return f"hub:{model}"
    files = []
    for part in PARTS:
        for item in sorted((path / part).rglob("*")):
            if item.is_file():
                stat = item.stat()
                files.append(f"{item.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}")
    return f"dir:{path.resolve()}:" + hashlib.sha256("\n".join(files).encode()).hexdigest()


class TextEmbeddingCache:
    """`encode(text)` -> (embeddings, attention mask), from memory, disk, or the pipeline once."""

    def __init__(self, folder: str | Path, model: str, max_sequence_length: int) -> None:
        self.folder = Path(folder).expanduser()
        self.model_key = model_key(model)
        self.max_sequence_length = int(max_sequence_length)
        self._memory: dict[str, tuple[Any, Any]] = {}
        self.encoded = 0  # texts this process had to run through the text encoder

    def _key(self, text: str, dtype: Any) -> str:
        raw = json.dumps([self.model_key, self.max_sequence_length, str(dtype), text])
        return hashlib.sha256(raw.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.safetensors"

    def encode(self, pipe: Any, text: str, device: Any) -> tuple[Any, Any]:
        """Embeddings and mask on `device` in the text encoder's dtype."""
        dtype = pipe.text_encoder.dtype
        key = self._key(text, dtype)
        if key not in self._memory:
            self._memory[key] = self._read(key) or self._compute(pipe, text, key)
        embeds, mask = self._memory[key]
        return embeds.to(device), mask.to(device)

    def _read(self, key: str) -> tuple[Any, Any] | None:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = self.path(key)
        if not path.is_file():
            return None
        try:
            data = load_file(str(path))
            return data["embeds"], data["mask"]
        except (SafetensorError, OSError, KeyError):  # a damaged entry is recomputed, not fatal
            return None

    def _compute(self, pipe: Any, text: str, key: str) -> tuple[Any, Any]:
        from safetensors.torch import save_file

        embeds, mask, _, _ = pipe.encode_prompt(
            prompt=text,
            do_classifier_free_guidance=False,
            max_sequence_length=self.max_sequence_length,
            device=pipe._execution_device,
        )
        self.encoded += 1
        embeds, mask = embeds.detach().cpu().contiguous(), mask.detach().cpu().contiguous()
        meta = {"text": text, "model": self.model_key, "length": str(self.max_sequence_length)}
        try:
            write_atomic(
                self.path(key),
                lambda tmp: save_file({"embeds": embeds, "mask": mask}, str(tmp), metadata=meta),
            )
        except OSError as exc:
            raise EquimeError(
                f"{self.folder}: cannot write the text-embedding cache ({exc})"
            ) from None
        return embeds, mask
