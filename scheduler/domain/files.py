"""Reading and writing instance and solution files (JSON), with problems a person can act on.

An instance file is the JSON form of :class:`~scheduler.domain.Instance`; the format is described
in ``docs/instance-format.md``. On top of the model the file format allows two conveniences:

- ``"policy"`` may name a preset (``"soenderborg"``) instead of spelling out every setting, or
  be an object with ``"preset"`` and the settings that differ from it;
- a top-level ``"$schema"`` key (an editor's hint, see ``scheduler schema``) is ignored.

Every problem found while reading is collected into one :class:`DataFileError` whose
``problems`` name the place in the file (``referrals[3](R-17).discharge_date``) and say what is
wrong in words, never as a stack trace.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from scheduler.domain import Assignment, Instance, Solution
from scheduler.domain.policy import PRESETS, Policy

__all__ = [
    "DataFileError",
    "dump_instance",
    "dump_plan",
    "dump_solution",
    "format_validation_error",
    "instance_json_schema",
    "load_instance",
    "load_solution",
    "parse_instance",
    "parse_plan",
    "parse_solution",
    "policy_json_schema",
    "read_json",
    "save_instance",
    "save_solution",
    "solution_json_schema",
    "write_text",
]

_M = TypeVar("_M", bound=BaseModel)

_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SHORT_INPUT = 40
# Ten digits as in a CPR number (ddmmyy-xxxx): never echoed back in a message.
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")


class DataFileError(ValueError):
    """A file that cannot be used. `problems` says why, one line each.

    `unreadable` is true when the file could not be read or written at all (missing, a
    directory, no permission): a usage error rather than a problem with its content.
    """

    def __init__(self, source: str, problems: Sequence[str], *, unreadable: bool = False) -> None:
        self.source = source
        self.problems = list(problems)
        self.unreadable = unreadable
        super().__init__(f"{source}: " + "; ".join(self.problems))


# --------------------------------------------------------------------------- reading


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in JSON")


def read_json(path: Path) -> Any:
    """The JSON value in a UTF-8 file (a byte-order mark is allowed).

    Raises :class:`DataFileError` for a file that cannot be read, is not JSON, uses
    NaN/Infinity, or repeats a key within one object (JSON parsers silently keep the last one,
    which hides typos and merge accidents).
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFileError(source, ["no such file"], unreadable=True) from None
    except IsADirectoryError:
        raise DataFileError(source, ["is a directory, not a file"], unreadable=True) from None
    except UnicodeDecodeError as exc:
        raise DataFileError(
            source, [f"not UTF-8 text (byte {exc.start} cannot be decoded)"]
        ) from None
    except OSError as exc:
        raise DataFileError(
            source, [f"cannot read: {exc.strerror or exc}"], unreadable=True
        ) from None

    repeated: list[str] = []

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                repeated.append(key)
            obj[key] = value
        return obj

    try:
        data = json.loads(text, object_pairs_hook=no_repeats, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DataFileError(
            source, [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
        ) from None
    except ValueError as exc:
        raise DataFileError(source, [f"not valid JSON: {exc}"]) from None
    if repeated:
        raise DataFileError(
            source,
            [f"key {key!r} appears twice in one object" for key in dict.fromkeys(repeated)],
        )
    return data


# --------------------------------------------------------------------------- error messages


def _as_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (through Annotated and `X | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin is Annotated:
        return _as_model(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            if (model := _as_model(arg)) is not None:
                return model
    return None


def _item_type(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _item_type(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            if get_origin(arg) in (list, tuple, set, frozenset):
                return _item_type(arg)
        return None
    if origin in (list, tuple, set, frozenset):
        args = get_args(annotation)
        return args[0] if args else None
    return None


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model at a location within `model`, following fields and list items."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _item_type(current)
            continue
        found = _as_model(current)
        if found is None or part not in found.model_fields:
            return None
        current = found.model_fields[part].annotation
    return _as_model(current)


def _where(loc: Sequence[str | int], data: Any) -> str:
    """`referrals[3](R-17).discharge_date`: the path, with the id of each list item known."""
    text = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            ident = node.get("id") if isinstance(node, dict) else None
            if isinstance(ident, str) and ident and not _CPR_LIKE.search(ident):
                text += f"({ident})"
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
    return text or "(top level)"


def _message(error: Any, root: type[BaseModel]) -> str:
    kind: str = error["type"]
    loc: tuple[str | int, ...] = tuple(error["loc"])
    if kind == "extra_forbidden":
        message = "unknown field"
        model = _model_at(root, loc[:-1])
        if model is not None and isinstance(loc[-1], str):
            close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
        return message
    if kind == "missing":
        return "required field is missing"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    value = error.get("input")
    if kind not in ("value_error", "assertion_error") and (
        value is None or isinstance(value, str | int | float | bool)
    ):
        shown = repr(value)
        if len(shown) <= _SHORT_INPUT and not _CPR_LIKE.search(shown):
            message += f" (got {shown})"
    return message


def format_validation_error(exc: ValidationError, data: Any, model: type[BaseModel]) -> list[str]:
    """One line per problem in `exc`, raised when validating `data` as `model`."""
    return [
        f"{_where(tuple(error['loc']), data)}: {_message(error, model)}"
        for error in exc.errors(include_url=False)
    ]


# --------------------------------------------------------------------------- instances


def _resolve_policy(value: Any) -> tuple[Any, list[str]]:
    """A policy given as a preset name, or as an object naming a preset, as a full object."""
    known = ", ".join(sorted(PRESETS))
    if isinstance(value, str):
        if value not in PRESETS:
            return value, [f"policy: unknown preset {value!r}; known: {known}"]
        return PRESETS[value].model_dump(mode="json"), []
    if isinstance(value, dict) and "preset" in value:
        name = value["preset"]
        if not isinstance(name, str) or name not in PRESETS:
            return value, [f"policy.preset: unknown preset {name!r}; known: {known}"]
        overrides = {k: v for k, v in value.items() if k != "preset"}
        return {**PRESETS[name].model_dump(mode="json"), **overrides}, []
    return value, []


def parse_instance(data: Any, source: str = "instance") -> Instance:
    """An :class:`Instance` from decoded JSON in the instance file format.

    Raises :class:`DataFileError` listing every problem found.
    """
    if not isinstance(data, dict):
        raise DataFileError(source, [f"expected a JSON object, got {type(data).__name__}"])
    data = {k: v for k, v in data.items() if k != "$schema"}
    problems: list[str] = []
    if "policy" in data:
        data["policy"], problems = _resolve_policy(data["policy"])
        if problems:  # go on with the law's policy to find the file's other problems too
            data["policy"] = Policy().model_dump(mode="json")
    try:
        instance = Instance.model_validate(data)
    except ValidationError as exc:
        problems += format_validation_error(exc, data, Instance)
        raise DataFileError(source, problems) from None
    if problems:
        raise DataFileError(source, problems)
    return instance


def load_instance(path: Path) -> Instance:
    """The instance in a JSON file; raises :class:`DataFileError` with every problem found."""
    return parse_instance(read_json(path), str(path))


def dump_instance(instance: Instance) -> str:
    """The instance as JSON text in the file format, every setting spelled out."""
    return instance.model_dump_json(indent=2) + "\n"


def save_instance(instance: Instance, path: Path) -> None:
    """Write the instance to a JSON file (atomically; parent folders are created)."""
    write_text(path, dump_instance(instance))


# --------------------------------------------------------------------------- solutions


def parse_solution(data: Any, source: str = "solution") -> Solution:
    """A :class:`Solution` from decoded JSON; raises :class:`DataFileError`."""
    if not isinstance(data, dict):
        raise DataFileError(source, [f"expected a JSON object, got {type(data).__name__}"])
    data = {k: v for k, v in data.items() if k != "$schema"}
    try:
        return Solution.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(source, format_validation_error(exc, data, Solution)) from None


def load_solution(path: Path) -> Solution:
    """The solution in a JSON file; raises :class:`DataFileError` with every problem found."""
    return parse_solution(read_json(path), str(path))


def dump_solution(solution: Solution) -> str:
    """The solution as JSON text."""
    return solution.model_dump_json(indent=2) + "\n"


def save_solution(solution: Solution, path: Path) -> None:
    """Write the solution to a JSON file (atomically; parent folders are created)."""
    write_text(path, dump_solution(solution))


def dump_plan(assignments: Sequence[Assignment]) -> str:
    """A plan's first sessions as JSON text: ``{"assignments": [...]}``, the assignments as in
    a solution file (a batch job's checkpoint, a later solve's hint)."""
    return json.dumps({"assignments": [a.model_dump(mode="json") for a in assignments]})


def parse_plan(data: Any, source: str = "plan") -> list[Assignment]:
    """The assignments of :func:`dump_plan`'s JSON (or of a whole solution file) once
    decoded; raises :class:`DataFileError`."""
    items = data.get("assignments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise DataFileError(source, ["expected a JSON object with a list 'assignments'"])
    out: list[Assignment] = []
    for i, item in enumerate(items):
        try:
            out.append(Assignment.model_validate(item))
        except ValidationError as exc:
            problems = format_validation_error(exc, item, Assignment)
            raise DataFileError(source, [f"assignments[{i}]: {p}" for p in problems]) from None
    return out


# --------------------------------------------------------------------------- writing


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically: readers see the old file or the whole new one.

    Raises :class:`DataFileError` (unreadable: true) when the file cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DataFileError(
            str(path), [f"cannot write: {exc.strerror or exc}"], unreadable=True
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DataFileError(
            str(path), [f"cannot write: {exc.strerror or exc}"], unreadable=True
        ) from None


# --------------------------------------------------------------------------- JSON Schema


def _with_dialect(schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": _SCHEMA_DIALECT, **schema}


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file (:func:`scheduler.domain.policy.load_policy`)."""
    return _with_dialect(Policy.model_json_schema())


def instance_json_schema() -> dict[str, Any]:
    """The JSON Schema of an instance file, with the file format's conveniences.

    `policy` may be a preset name, or an object with an optional `preset` and any policy
    settings; a top-level `$schema` string is allowed.
    """
    schema = Instance.model_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    presets = sorted(PRESETS)
    policy_object = dict(defs["Policy"])
    policy_object["properties"] = {
        "preset": {
            "enum": presets,
            "description": "Start from this preset; the other keys override its settings.",
        },
        **policy_object["properties"],
    }
    defs["Policy"] = policy_object
    schema["properties"]["policy"] = {
        "description": "The municipality's policy: a preset name, or an object of settings.",
        "anyOf": [
            {"enum": presets, "description": "A preset policy, by name."},
            {"$ref": "#/$defs/Policy"},
        ],
    }
    schema["properties"] = {
        "$schema": {"type": "string", "description": "Ignored: a hint for editors."},
        **schema["properties"],
    }
    return _with_dialect(schema)


def solution_json_schema() -> dict[str, Any]:
    """The JSON Schema of a solution file."""
    return _with_dialect(Solution.model_json_schema())
