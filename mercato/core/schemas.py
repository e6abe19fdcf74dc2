"""Base Pydantic models: inputs refuse unknown fields, unsafe characters and loosely typed
numbers; outputs are read from attributes.

Every ``InputModel`` subclass inherits these rules, field by field, without declaring anything:

- **Text** may not hold control characters (NUL, which PostgreSQL cannot store, and the rest of
  C0/C1, unpaired surrogates, U+2028/U+2029) nor the invisible text-direction characters that
  make stored names and addresses render reversed or disguised (U+202A–U+202E, U+2066–U+2069,
  U+200E, U+200F, U+061C). A field typed ``MultilineText`` (notes, descriptions, reasons) may
  hold line breaks and tabs; every other text is one line. Refused with the field error codes
  ``string_control_characters`` and ``string_bidi_characters`` (422 ``core.validation_failed``).
- **Whole numbers and booleans** are strict: a JSON body gives ``2``, never ``"2"``, ``2.0`` or
  ``true`` (field error ``int_type``), and ``true``, never ``1`` or ``"yes"`` (``bool_type``).
  Values that arrive as text (HTML forms) are validated with ``context=TEXT_VALUES``, which lets
  ``"2"`` and ``"on"`` parse.
- Ids are ``IdInt``: 1..2**63-1, the range of a BIGINT column, so a huge id is a 422, not a
  database overflow. Every other integer declares its own bounds (a test walks every input
  model to make sure).
"""

from __future__ import annotations

import re
import types
import weakref
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import PydanticCustomError, PydanticKnownError

#: The largest BIGINT: ids are 1..MAX_ID on SQLite and PostgreSQL alike.
MAX_ID: Final = 2**63 - 1
#: Minor units: ten billion yuan, far above any real price, order or refund.
MAX_AMOUNT: Final = 10**12

IdInt = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A reference to a row (``*_id``): 1..2**63-1."""
AmountInt = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
"""An amount of money in minor units (fen): 0..10**12."""


class _Multiline:
    """Marks text that may span lines (see ``MultilineText``)."""

    def __repr__(self) -> str:
        return "MULTILINE"


MULTILINE: Final = _Multiline()
MultilineText = Annotated[str, MULTILINE]
"""Text that may hold line breaks and tabs (a note, a description, a reason)."""

#: Validation context for values that arrive as text (HTML form fields): ``"2"`` parses as an
#: integer there. JSON bodies are validated without it, so their integers are strict.
TEXT_VALUES: Final[dict[str, bool]] = {"text_values": True}
#: Validation context for values read back from the database through an input model (an order's
#: invoice request): they were checked when written, and a row saved before a rule existed must
#: still read, so the text and integer checks are skipped.
STORED_VALUES: Final[dict[str, bool]] = {"stored_values": True}

# Unicode Cc (C0, DEL, C1), unpaired surrogates (Cs: not storable as UTF-8) and the line and
# paragraph separators. Tab, LF and CR are allowed in multi-line text only.
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
_SINGLE_LINE_CONTROL = re.compile(f"[{_CONTROL}\t\n\r]")
_MULTILINE_CONTROL = re.compile(f"[{_CONTROL}]")
# Bidirectional formatting characters: embeddings and overrides, isolates, and the invisible
# marks (LRM, RLM, ALM), which a shop whose text is Chinese and English never needs.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

CONTROL_CHARACTERS: Final = "string_control_characters"
BIDI_CHARACTERS: Final = "string_bidi_characters"
#: English messages of the text errors (translated by the problem renderer).
TEXT_MESSAGES: Final = {
    CONTROL_CHARACTERS: "Must not contain control characters.",
    BIDI_CHARACTERS: "Must not contain text-direction control characters (such as U+202E).",
}


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """The error code of text that may not be stored or shown (see the module docstring), or
    None when it is fine."""
    if value.isprintable():  # every refused character is unprintable: the usual, fast answer
        return None
    if (_MULTILINE_CONTROL if multiline else _SINGLE_LINE_CONTROL).search(value):
        return CONTROL_CHARACTERS
    if _BIDI.search(value):
        return BIDI_CHARACTERS
    return None


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, for a pydantic validator.

    Raises:
        PydanticCustomError: ``string_control_characters`` or ``string_bidi_characters``.
    """
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise PydanticCustomError(problem, TEXT_MESSAGES[problem])
    return value


def _check_texts(value: Any, multiline: bool) -> None:
    """Check every string in a validated value: lists, sets and dicts (keys are one line) are
    walked; nested models have checked themselves."""
    if isinstance(value, str):
        check_text(value, multiline=multiline)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_texts(item, multiline)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_texts(key, False)
            _check_texts(item, multiline)


def _is_loose_int(value: Any) -> bool:
    """Whether a JSON value would only pass as an integer by coercion (``"2"``, ``2.0``, ``true``)."""
    return isinstance(value, str | bytes | float | bool)


def _unwrap(annotation: Any) -> Any:
    """``annotation`` without ``Annotated[...]`` and ``| None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin is Union or origin is types.UnionType:
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _int_or_words(annotation: Any) -> frozenset[str] | None:
    """For ``int | Literal["a", "b"]`` (an id or a few words), the words; else None."""
    base = _unwrap(annotation)
    if get_origin(base) is not Union and get_origin(base) is not types.UnionType:
        return None
    args = [arg for arg in get_args(base) if arg is not type(None)]
    ints = [arg for arg in args if _unwrap(arg) is int]
    words = [
        arg for arg in args if get_origin(arg) is Literal and all(isinstance(w, str) for w in get_args(arg))
    ]
    if len(ints) != 1 or len(ints) + len(words) != len(args):
        return None
    return frozenset(w for arg in words for w in get_args(arg))


def _int_shape(annotation: Any) -> Literal["one", "each"] | None:
    """``one`` for an integer (or an integer or one of a few words), ``each`` for a list, set or
    tuple of integers, else None."""
    base = _unwrap(annotation)
    if base is int or _int_or_words(annotation) is not None:
        return "one"
    if get_origin(base) in (list, set, frozenset, tuple):
        args = [arg for arg in get_args(base) if arg is not Ellipsis]
        if args and all(_unwrap(arg) is int for arg in args):
            return "each"
    return None


def _mentions(annotation: Any, marker: object) -> bool:
    """Whether ``marker`` is in the metadata of ``annotation`` or of any type inside it."""
    if get_origin(annotation) is Annotated:
        return any(item is marker for item in annotation.__metadata__) or _mentions(
            get_args(annotation)[0], marker
        )
    return any(_mentions(arg, marker) for arg in get_args(annotation))


@dataclass(frozen=True)
class _FieldRules:
    ints: Literal["one", "each"] | None
    words: frozenset[str]  # the words an integer field also takes (``int | Literal[...]``)
    boolean: bool
    multiline: bool


_RULES: weakref.WeakKeyDictionary[type[BaseModel], dict[str, _FieldRules]] = weakref.WeakKeyDictionary()


def _rules_of(model: type[BaseModel]) -> dict[str, _FieldRules]:
    rules = _RULES.get(model)
    if rules is None:
        rules = {
            name: _FieldRules(
                ints=_int_shape(info.annotation),
                words=_int_or_words(info.annotation) or frozenset(),
                boolean=_unwrap(info.annotation) is bool,
                multiline=MULTILINE in info.metadata or _mentions(info.annotation, MULTILINE),
            )
            for name, info in model.model_fields.items()
        }
        _RULES[model] = rules
    return rules


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are an error, strings are stripped, text is
    checked for unsafe characters and integers are strict (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="wrap")
    @classmethod
    def _guard_input(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        rules = _rules_of(cls).get(info.field_name or "")
        context = info.context or {}
        if rules is None or context.get("stored_values"):
            return handler(value)
        if rules.ints is not None and not context.get("text_values"):
            loose = (
                _is_loose_int(value) and value not in rules.words
                if rules.ints == "one"
                else isinstance(value, list | tuple | set | frozenset) and any(map(_is_loose_int, value))
            )
            if loose:
                raise PydanticKnownError("int_type")
        if (
            rules.boolean
            and value is not None
            and not isinstance(value, bool)
            and not context.get("text_values")
        ):
            raise PydanticKnownError("bool_type")
        result = handler(value)
        _check_texts(result, rules.multiline)
        return result


class ReadModel(BaseModel):
    """Base of DTOs returned by services (built from ORM rows, never the rows themselves)."""

    model_config = ConfigDict(from_attributes=True, frozen=True)
