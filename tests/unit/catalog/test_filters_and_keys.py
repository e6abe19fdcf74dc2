"""Storefront attribute filters and the canonical spec key of a SKU."""

from __future__ import annotations

import pytest

from mercato.catalog.errors import AttributeFilterInvalid
from mercato.catalog.service.skus import spec_key
from mercato.catalog.service.storefront import parse_attribute_filters


def test_spec_keys_sort_codes() -> None:
    assert spec_key({"size": "M", "colour": "红色"}) == "colour=红色;size=M"
    assert spec_key({}) == ""


def test_filters_group_values_by_code_in_order_without_repeats() -> None:
    assert parse_attribute_filters(
        ["colour:红色", "material:棉", "colour:黑色", "colour:红色", "note:a:b"]
    ) == {
        "colour": ["红色", "黑色"],
        "material": ["棉"],
        "note": ["a:b"],
    }


@pytest.mark.parametrize("entry", ["colour", "colour:", ":红色", "Colour:红色", "1st:x", "col our:x"])
def test_malformed_filters_are_refused(entry: str) -> None:
    with pytest.raises(AttributeFilterInvalid) as refused:
        parse_attribute_filters([entry])

    assert [f.loc for f in refused.value.fields] == [("query", "attr", 0)]
