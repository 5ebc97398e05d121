"""Forgiving report filters (issue 14): what ``--project``/``?project=`` and ``--model``/``?model=``
may name, resolved to the exact keys and ids the report queries select (DESIGN section 8's
``project`` and ``model`` filters, made forgiving).

- A project is named by its key (the directory under ``projects/``), its real path (the
  transcripts' ``cwd``) or the last part of that path (``app`` for ``/home/dev/app``); case is
  ignored when nothing matches exactly. A last part that several projects share selects all.
- A model is named by its id, or by the short name the tables print (``opus-4-1`` for
  ``claude-opus-4-1-20250805``), or by a part of it made of whole words (``sonnet`` selects every
  Sonnet, ``4-5`` every 4.5 model); a short name that equals a model's exactly selects only those.
- A name that matches nothing raises :class:`NoMatch` with the closest names ("did you mean"),
  never an empty report.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

_REGION = re.compile(r"^(us|eu|apac|jp|au|global|us-gov)\.")
_VERSION_SUFFIX = re.compile(r"-v\d+(:\d+)?$")
_DATE_SUFFIX = re.compile(r"[-@]\d{8}$")


class NoMatch(ValueError):
    """A filter value that names nothing: ``what`` (``project`` or ``model``), the value
    ``given`` and up to three ``suggestions`` (closest first)."""

    def __init__(self, what: str, given: str, suggestions: list[str]):
        self.what = what
        self.given = given
        self.suggestions = suggestions
        hint = {"project": "its key, path or the last part of its path",
                "model": "its id or a short name such as opus-4-1 or sonnet"}[what]
        text = f"no {what} matches {given!r} ({hint})"
        if suggestions:
            quoted = [repr(s) for s in suggestions]
            text += "; did you mean " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]) + "?"
        super().__init__(text)


def short_model(model: str) -> str:
    """A model id as the tables print it: ``claude-sonnet-4-5-20250929`` gives ``sonnet-4-5``;
    Bedrock (``us.anthropic.claude-opus-4-6-v1:0``) and Vertex (``claude-opus-4-1@20250805``)
    ids give the same short names; other ids pass (without a date suffix)."""
    name = model.removeprefix("anthropic/")
    if name.startswith(("anthropic.", "us.", "eu.", "apac.", "jp.", "au.", "global.", "us-gov.")):
        name = _REGION.sub("", name).removeprefix("anthropic.")
        name = _VERSION_SUFFIX.sub("", name)
    name = _DATE_SUFFIX.sub("", name.removeprefix("claude-"))
    return name.removesuffix("[1m]")


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[-_.\s]+", text.lower()) if word]


def _contains_words(whole: list[str], part: list[str]) -> bool:
    return bool(part) and any(whole[at: at + len(part)] == part for at in range(len(whole) - len(part) + 1))


def _suggest(given: str, candidates: dict[str, tuple[str, str]]) -> list[str]:
    """The closest of ``candidates`` (lower-cased form -> (what it names, what to show)) to
    ``given``: at most three, one per thing named."""
    found = difflib.get_close_matches(given.lower(), list(candidates), n=6, cutoff=0.5)
    if not found:  # a word of a longer name ("sonet" for "claude-sonnet-4-5")
        words = {word: named for lowered, named in candidates.items() for word in _words(lowered)}
        return list(dict.fromkeys(words[w][1] for w in difflib.get_close_matches(given.lower(), list(words), n=3, cutoff=0.6)))
    shown: dict[str, str] = {}
    for form in found:
        key, text = candidates[form]
        shown.setdefault(key, text)
    return list(shown.values())[:3]


def last_part(path: str) -> str:
    """The last part of a path written with ``/`` or ``\\`` separators (``app`` for
    ``/home/dev/app/``)."""
    parts = [part for part in re.split(r"[\\/]+", path) if part]
    return parts[-1] if parts else path


def match_projects(given: str, paths: dict[str, str | None]) -> tuple[str, ...]:
    """The project keys of ``paths`` (key -> real path or None) that ``given`` names (see the
    module docstring), in key order; raises :class:`NoMatch`."""
    wanted = given.strip()
    for fold in (False, True):
        norm = (lambda text: text.lower()) if fold else (lambda text: text)
        target = norm(wanted.rstrip("/\\") or wanted)
        for rule in (lambda key, path: norm(key) == target,
                     lambda key, path: path is not None and norm(path.rstrip("/\\")) == target,
                     lambda key, path: path is not None and norm(last_part(path)) == target):
            found = tuple(sorted(key for key, path in paths.items() if rule(key, path)))
            if found:
                return found
    candidates: dict[str, tuple[str, str]] = {}
    for key, path in paths.items():
        # A project is suggested by the last part of its path (or the path when that part is
        # not its own), else by its key.
        name = last_part(path) if path else key
        shared = path is not None and sum(1 for other in paths.values() if other and last_part(other) == name) > 1
        shown = path if shared else name
        for form in (key, *((last_part(path), path) if path else ())):
            candidates.setdefault(form.lower(), (key, shown))
    raise NoMatch("project", given, _suggest(wanted, candidates))


def match_models(given: str, models: list[str]) -> tuple[str, ...]:
    """The model ids of ``models`` that ``given`` names (see the module docstring), in id
    order; raises :class:`NoMatch`."""
    wanted = given.strip()
    if wanted in models:
        return (wanted,)
    lowered = wanted.lower()
    exact = tuple(sorted(m for m in models if m.lower() == lowered or short_model(m).lower() == short_model(lowered)))
    if exact:
        return exact
    words = _words(short_model(lowered))
    found = tuple(sorted(m for m in models if _contains_words(_words(short_model(m)), words)))
    if found:
        return found
    candidates = {short_model(m).lower(): (short_model(m), short_model(m)) for m in models}
    candidates.update({m.lower(): (short_model(m), short_model(m)) for m in models})
    raise NoMatch("model", given, _suggest(short_model(lowered), candidates))


def resolve_projects(view: Any, given: str) -> tuple[str, ...]:
    """:func:`match_projects` over the projects of the store (``view``)."""
    from claude_usage.store import facts

    keys = [name for (name,) in view.rows("SELECT name FROM projects")]
    known = facts.project_paths(view)
    return match_projects(given, {key: known.get(key) for key in keys})


def resolve_models(view: Any, given: str) -> tuple[str, ...]:
    """:func:`match_models` over the models of the store (``view``)."""
    return match_models(given, [name for (name,) in view.rows("SELECT name FROM models")])


def resolve(view: Any, project: str | None, model: str | None) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """``(project keys, model ids)`` that the given filter values name (None where none was
    given, or an empty value); raises :class:`NoMatch` for a value that names nothing."""
    projects = resolve_projects(view, project) if project and project.strip() else None
    models = resolve_models(view, model) if model and model.strip() else None
    return projects, models
