"""Z in words: the prompt text every generator records and the LTX backend conditions on.

The wording is data, not code: a YAML template (`data/prompts/*.yaml`, or a file the user passes)
with a prompt, a neutral prompt and a negative prompt. Its name and SHA-256 travel with every
sample, so a dataset says exactly which words made it.

The negative prompt is built per sample: a term that would forbid what Z asks for ("open mouth"
while AU25/AU26 are requested) is dropped, following the template's `conflicts` table. Without
the emotion word (`prompt_no_emotion`), a do(Z) counterfactual changes only the AU words.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from equime.errors import EquimeError
from equime.facs.aus import AUS, parse_code

DEFAULT_TEMPLATE = "micro-expression"
PLACEHOLDERS = ("emotion", "aus", "au_codes", "intensity")

_LEVELS = (
    (0.2, "a trace of"),
    (0.4, "slight"),
    (0.6, "marked"),
    (0.8, "pronounced"),
    (1.01, "extreme"),
)


def intensity_word(value: float) -> str:
    return next(word for limit, word in _LEVELS if value <= limit)


def _active(aus: dict[str, float]) -> list[tuple[str, float]]:
    """Active AUs in catalogue order."""
    items = sorted(aus.items(), key=lambda kv: (parse_code(kv[0])[1], kv[0]))
    return [(code, value) for code, value in items if value > 0]


def describe_aus(aus: dict[str, float]) -> str:
    """'AU6 (slight): the cheeks lift, ...; AU12 (slight): ...' in catalogue order."""
    parts = []
    for code, value in _active(aus):
        side, number, _ = parse_code(code)
        where = {"R": " on the right side", "L": " on the left side"}.get(side, "")
        parts.append(f"AU{number} ({intensity_word(value)}): {AUS[number].words}{where}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Conflict:
    """When a negative-prompt term contradicts Z: one of `aus` is requested, or any AU is above
    `above` (an 'extreme' intensity contradicts 'extreme expression')."""

    aus: frozenset[int] = frozenset()
    above: float | None = None

    def hit(self, active: list[tuple[str, float]]) -> bool:
        return any(
            parse_code(code)[1] in self.aus or (self.above is not None and value > self.above)
            for code, value in active
        )


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    sha256: str  # of the file's bytes: any edit gives a new hash
    prompt: str
    neutral: str
    negative: str
    prompt_no_emotion: str = ""  # the prompt without the emotion word (--no-prompt-emotion)
    conflicts: tuple[tuple[str, Conflict], ...] = ()  # negative term -> when it contradicts Z

    def render(self, emotion: str, aus: dict[str, float], with_emotion: bool = True) -> str:
        active = _active(aus)
        if not active:
            return self.neutral
        text = self.prompt
        if not with_emotion:
            if not self.prompt_no_emotion and "{emotion}" in self.prompt:
                raise EquimeError(
                    f"prompt template {self.name}: names {{emotion}} and has no "
                    "'prompt_no_emotion' text for --no-prompt-emotion"
                )
            text = self.prompt_no_emotion or self.prompt
        values = {
            "emotion": emotion,
            "aus": describe_aus(aus),
            "au_codes": ", ".join(f"AU{code}" for code, _ in active),
            "intensity": intensity_word(max(v for _, v in active)),
        }
        return text.format_map(values)

    def negative_terms(self) -> list[str]:
        return [term.strip() for term in self.negative.split(",") if term.strip()]

    def negative_for(self, aus: dict[str, float]) -> str:
        """The negative prompt for this Z: every term except those that contradict it."""
        active = _active(aus)
        table = dict(self.conflicts)  # terms are matched without regard to case
        kept = [
            t
            for t in self.negative_terms()
            if not (t.lower() in table and table[t.lower()].hit(active))
        ]
        return ", ".join(kept)


def bundled_templates() -> list[str]:
    folder = resources.files("equime") / "data" / "prompts"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _check_fields(where: str, text: str) -> None:
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None and field not in PLACEHOLDERS:
            raise EquimeError(
                f"{where}: unknown placeholder {{{field}}}; known: "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )


@lru_cache(maxsize=8)
def load_template(name_or_path: str = DEFAULT_TEMPLATE) -> PromptTemplate:
    """A bundled template by name, or a YAML file with `prompt`, `neutral` and `negative`."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        data = path.read_bytes()
        where = str(path)
    elif name_or_path in bundled_templates():
        resource = resources.files("equime") / "data" / "prompts" / f"{name_or_path}.yaml"
        data = resource.read_bytes()
        where = f"prompt template {name_or_path}"
    else:
        bundled = ", ".join(bundled_templates())
        raise EquimeError(f"{name_or_path}: no such prompt template file; bundled: {bundled}")
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EquimeError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("prompt"), str):
        raise EquimeError(f"{where}: a prompt template needs at least a 'prompt' text")
    for key in ("prompt", "neutral", "negative", "prompt_no_emotion"):
        if not isinstance(doc.get(key, ""), str):
            raise EquimeError(f"{where}: '{key}' must be a text")
        _check_fields(where, doc.get(key, ""))
    if "{emotion}" in (doc.get("prompt_no_emotion") or ""):
        raise EquimeError(f"{where}: 'prompt_no_emotion' must not use {{emotion}}")
    return PromptTemplate(
        name=str(doc.get("name") or path.stem),
        sha256=hashlib.sha256(data).hexdigest(),
        prompt=doc["prompt"].strip(),
        neutral=(doc.get("neutral") or "").strip(),
        negative=(doc.get("negative") or "").strip(),
        prompt_no_emotion=(doc.get("prompt_no_emotion") or "").strip(),
        conflicts=(
            _conflicts(where, doc.get("conflicts"))
            if "conflicts" in doc or name_or_path == DEFAULT_TEMPLATE
            else load_template(DEFAULT_TEMPLATE).conflicts  # a template without a table
        ),
    )


def _conflicts(where: str, table: object) -> tuple[tuple[str, Conflict], ...]:
    """`conflicts: {term: {aus: [25, 26]} | {above: 0.8}}` read and checked."""
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise EquimeError(f"{where}: 'conflicts' must map negative terms to {{aus, above}}")
    out = []
    for term, rule in table.items():
        if not isinstance(rule, dict) or set(rule) - {"aus", "above"}:
            raise EquimeError(f"{where}: conflict '{term}' must give 'aus' and/or 'above'")
        numbers = rule.get("aus") or []
        unknown = [n for n in numbers if not isinstance(n, int) or n not in AUS]
        if unknown:
            raise EquimeError(f"{where}: conflict '{term}' names unknown AU {unknown[0]}")
        above = rule.get("above")
        if above is not None and not isinstance(above, int | float):
            raise EquimeError(f"{where}: conflict '{term}': 'above' must be a number")
        out.append((str(term).strip().lower(), Conflict(frozenset(numbers), above)))
    return tuple(out)


def prompt_text(
    emotion: str,
    aus: dict[str, float],
    template: str = DEFAULT_TEMPLATE,
    with_emotion: bool = True,
) -> str:
    return load_template(template).render(emotion, aus, with_emotion)
