"""Every input model refuses unsafe text and loose or unbounded integers, without declaring it:
``InputModel`` does it for every subclass, and a walk over all of them keeps new modules honest."""

from __future__ import annotations

import importlib
import pkgutil
import types
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo

import mercato
from mercato import pricing
from mercato.core.schemas import (
    MAX_ID,
    STORED_VALUES,
    TEXT_VALUES,
    IdInt,
    InputModel,
    MultilineText,
    text_problem,
)


class Sample(InputModel):
    name: Annotated[str, Field(max_length=60)] = ""
    note: Annotated[MultilineText, Field(max_length=200)] = ""
    reason: MultilineText | None = None
    tags: list[str] = []
    params: dict[str, str] = {}
    quantity: Annotated[int, Field(ge=1, le=999)] = 1
    role_ids: list[IdInt] = []
    is_active: bool | None = None


def _errors(data: dict[str, Any], **kwargs: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data, **kwargs)
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


@pytest.mark.parametrize(
    ("_case", "data", "loc"),
    [
        ("NUL in a name", {"name": "x\x00y"}, ("name",)),
        ("NUL in a multi-line note", {"note": "x\x00y"}, ("note",)),
        ("newline in a name", {"name": "x\ny"}, ("name",)),
        ("tab in a name", {"name": "x\ty"}, ("name",)),
        ("escape character", {"name": "x\x1b[31m"}, ("name",)),
        ("DEL", {"name": "x\x7f"}, ("name",)),
        ("C1 control", {"name": "x\x85y"}, ("name",)),
        ("line separator in a note", {"note": "x\u2028y"}, ("note",)),
        ("NUL in a list item", {"tags": ["ok", "x\x00"]}, ("tags",)),
        ("NUL in a dict key", {"params": {"k\x00": "v"}}, ("params",)),
        ("NUL in a dict value", {"params": {"k": "v\x00"}}, ("params",)),
        ("NUL in an optional multi-line text", {"reason": "x\x00"}, ("reason",)),
    ],
)
def test_control_characters_are_refused(_case: str, data: dict[str, Any], loc: tuple[str]) -> None:
    assert _errors(data) == [(loc, "string_control_characters")]


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
    ],
)
def test_text_direction_characters_are_refused(char: str) -> None:
    assert _errors({"name": f"张三{char}abc"}) == [(("name",), "string_bidi_characters")]
    assert _errors({"note": f"备注{char}"}) == [(("note",), "string_bidi_characters")]


def test_multi_line_text_keeps_line_breaks_and_tabs() -> None:
    sample = Sample.model_validate({"note": "第一行\r\n第二行\t续", "reason": "a\nb"})

    assert (sample.note, sample.reason) == ("第一行\r\n第二行\t续", "a\nb")


def test_ordinary_text_passes() -> None:
    name = "Zoë 张三\u3000（全角空格）👨\u200d👩\u200d👧 O'Brien"  # ideographic space, zero-width joiners

    assert Sample.model_validate({"name": name}).name == name


@pytest.mark.parametrize(
    ("_case", "data", "loc"),
    [
        ("a string", {"quantity": "2"}, ("quantity",)),
        ("true", {"quantity": True}, ("quantity",)),
        ("a float", {"quantity": 2.0}, ("quantity",)),
        ("a string in a list", {"role_ids": [1, "2"]}, ("role_ids",)),
        ("false in a list", {"role_ids": [False]}, ("role_ids",)),
    ],
)
def test_integers_are_strict(_case: str, data: dict[str, Any], loc: tuple[str]) -> None:
    assert _errors(data) == [(loc, "int_type")]


@pytest.mark.parametrize("value", [0, 1, "true", "yes", 1.0])
def test_booleans_are_strict(value: Any) -> None:
    assert _errors({"is_active": value}) == [(("is_active",), "bool_type")]
    assert Sample.model_validate({"is_active": False}).is_active is False
    assert Sample.model_validate({"is_active": None}).is_active is None


def test_booleans_typed_as_text_parse_with_text_values() -> None:
    assert Sample.model_validate({"is_active": "on"}, context=TEXT_VALUES).is_active is True


def test_integers_typed_as_text_parse_with_text_values() -> None:
    sample = Sample.model_validate({"quantity": "2", "role_ids": ["3"]}, context=TEXT_VALUES)

    assert (sample.quantity, sample.role_ids) == (2, [3])
    assert _errors({"quantity": "1000"}, context=TEXT_VALUES) == [(("quantity",), "less_than_equal")]


def test_stored_values_read_back_unchecked() -> None:
    sample = Sample.model_validate({"name": "旧\n数据", "quantity": "2"}, context=STORED_VALUES)

    assert (sample.name, sample.quantity) == ("旧\n数据", 2)


def test_shipping_regions_are_checked_on_the_way_in_only() -> None:
    rules = [{"regions": ["广东", "浙江\u0000"], "first_fee_amount": 800}]

    with pytest.raises(ValidationError) as caught:
        pricing.ShippingTemplateWrite.model_validate({"name": "默认", "rules": rules})

    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [
        (("rules",), "string_control_characters")
    ]
    assert pricing.ShippingRule.model_validate({"regions": ["旧\n数据"]}).regions == ("旧\n数据",)


def test_ids_are_bigints() -> None:
    assert Sample.model_validate({"role_ids": [1, MAX_ID]}).role_ids == [1, MAX_ID]
    assert _errors({"role_ids": [MAX_ID + 1]}) == [(("role_ids", 0), "less_than_equal")]
    assert _errors({"role_ids": [0]}) == [(("role_ids", 0), "greater_than_equal")]


def test_text_problem() -> None:
    assert text_problem("ok 好") is None
    assert text_problem("a\nb") == "string_control_characters"
    assert text_problem("a\nb", multiline=True) is None
    assert text_problem("a\x00b", multiline=True) == "string_control_characters"
    assert text_problem("\u202egnp.exe") == "string_bidi_characters"


# -- every input model of every module -----------------------------------------------------------


def _import_all() -> None:
    for info in pkgutil.walk_packages(mercato.__path__, "mercato."):
        if ".templates" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def _subclasses(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def _input_models() -> list[type[BaseModel]]:
    """Every InputModel subclass, and the other models their fields hold (a nested read model)."""
    _import_all()
    found = {cls for cls in _subclasses(InputModel) if not cls.__module__.startswith("tests.")}
    for cls in list(found):
        for info in cls.model_fields.values():
            found.update(_models_in(info.annotation))
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _constraints(metadata: Any) -> list[Any]:
    flat: list[Any] = []
    for item in metadata:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return flat


def _unbounded_ints(annotation: Any, metadata: tuple[Any, ...] = ()) -> int:
    """How many integers in ``annotation`` lack a lower or an upper bound; ``metadata`` is what
    applies to ``annotation`` itself (the field's constraints, or an enclosing ``Annotated``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _unbounded_ints(base, (*metadata, *_constraints(extra)))
    if annotation is int:
        low = any(isinstance(m, at.Ge | at.Gt) for m in metadata)
        high = any(isinstance(m, at.Le | at.Lt) for m in metadata)
        return 0 if low and high else 1
    if origin is Union or origin is types.UnionType:  # constraints apply to each member
        return sum(_unbounded_ints(arg, metadata) for arg in get_args(annotation))
    return sum(_unbounded_ints(arg) for arg in get_args(annotation))  # items of a container


def test_every_integer_of_every_input_model_is_bounded() -> None:
    models = _input_models()
    unbounded = [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in models
        for name, info in cls.model_fields.items()
        if _unbounded_ints(info.annotation, tuple(_constraints(info.metadata)))
    ]

    assert len(models) > 50  # the walk found the modules' models
    assert unbounded == []


def test_the_walk_sees_an_unbounded_integer() -> None:
    class Careless(InputModel):
        count: int
        ids: list[int]
        maybe: Annotated[int | None, Field(ge=1)]
        fine: Annotated[int | None, Field(ge=1, le=9)]
        nested_fine: list[IdInt] | None

    assert [
        name
        for name, info in Careless.model_fields.items()
        if _unbounded_ints(info.annotation, tuple(_constraints(info.metadata)))
    ] == ["count", "ids", "maybe"]


Words = Literal["best", "none"]


def test_an_id_or_a_word_takes_the_words_and_only_whole_numbers() -> None:
    class Pick(InputModel):
        choice: IdInt | Words = "best"

    assert [Pick.model_validate({"choice": v}).choice for v in (7, "best", "none")] == [7, "best", "none"]
    for loose in ("7", 7.0, True, "BEST"):
        with pytest.raises(ValidationError):
            Pick.model_validate({"choice": loose})
    assert Pick.model_validate({"choice": "7"}, context={"text_values": True}).choice == 7  # a form's text
