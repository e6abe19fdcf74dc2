"""The division data behind the address pickers: the checks, the pickers' choices, the parser of
a pasted address line, and the shipped file being what the pinned npm package generates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mercato import identity

ROOT = Path(__file__).resolve().parents[3]


def test_the_shipped_file_is_what_the_pinned_package_generates() -> None:
    # scripts/bootstrap (run by make test) installs the pinned package with the other npm ones
    assert (ROOT / "node_modules" / "@vant" / "area-data").is_dir(), "run scripts/bootstrap"
    checked = subprocess.run(
        [str(ROOT / "scripts" / "gen-regions"), "--check"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def test_provinces_cities_and_districts() -> None:
    provinces = identity.list_regions()
    guangdong = next(p for p in provinces if p.name == "广东省")
    shenzhen = next(c for c in identity.list_regions(parent_code=guangdong.code) if c.name == "深圳市")

    assert len(provinces) == 34
    assert (guangdong.code, shenzhen.code) == ("440000", "440300")
    assert [d.name for d in identity.list_regions(parent_code=shenzhen.code)][:3] == [
        "罗湖区",
        "福田区",
        "南山区",
    ]
    assert identity.list_regions(parent_code="999999") == []


@pytest.mark.parametrize(
    ("province", "city", "district"),
    [
        ("北京市", "北京市", "朝阳区"),
        ("重庆市", "县", "城口县"),
        ("湖北省", "省直辖县", "仙桃市"),
        ("广东省", "东莞市", "长安镇"),
    ],
)
def test_municipalities_and_county_level_areas_fit(province: str, city: str, district: str) -> None:
    identity.check_region(province=province, city=city, district=district)


@pytest.mark.parametrize(
    ("province", "city", "district", "field"),
    [
        ("广东", "深圳市", "南山区", "province"),
        ("广东省", "杭州市", "西湖区", "city"),
        ("广东省", "深圳市", "西湖区", "district"),
        ("广东省", "深圳市", "", "district"),
    ],
)
def test_a_mismatch_names_the_first_wrong_level(province: str, city: str, district: str, field: str) -> None:
    with pytest.raises(identity.RegionInvalid) as raised:
        identity.check_region(province=province, city=city, district=district)
    assert [f.loc for f in raised.value.fields] == [("body", field)]


def test_the_pickers_keep_what_fits_and_choose_a_municipalitys_city() -> None:
    kept = identity.region_choices(province="广东省", city="深圳市", district="西湖区")
    beijing = identity.region_choices(province="北京市")

    assert (kept.province, kept.city, kept.district) == ("广东省", "深圳市", "")
    assert "南山区" in [d.name for d in kept.districts]
    assert (beijing.city, len(beijing.cities)) == ("北京市", 1)
    assert identity.region_choices().cities == []


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        (
            "张三 13800138000 广东省深圳市南山区科技园路1号",
            ("张三", "13800138000", "广东省", "深圳市", "南山区", "科技园路1号"),
        ),
        (
            "广东省深圳市南山区科技园路1号 A栋 1201，张三，138-0013-8000",
            ("张三", "13800138000", "广东省", "深圳市", "南山区", "科技园路1号 A栋 1201"),
        ),
        (
            "收货人：王五 手机号码：13700137000 所在地区：湖北省仙桃市 详细地址：沔阳大道1号",
            ("王五", "13700137000", "湖北省", "省直辖县", "仙桃市", "沔阳大道1号"),
        ),
        (
            "深圳南山区科技园路1号 赵六 +86 138 0013 8000",
            ("赵六", "13800138000", "广东省", "深圳市", "南山区", "科技园路1号"),
        ),
        ("上海浦东新区世纪大道100号 Tom", ("Tom", "", "上海市", "上海市", "浦东新区", "世纪大道100号")),
    ],
)
def test_a_pasted_line_is_parsed(line: str, parsed: tuple[str, ...]) -> None:
    found = identity.parse_address_line(line)

    assert (found.recipient, found.phone, found.province, found.city, found.district, found.detail) == parsed


def test_a_line_without_regions_leaves_them_blank() -> None:
    found = identity.parse_address_line("13800138000")

    assert (found.phone, found.province, found.city, found.district, found.detail) == (
        "13800138000",
        "",
        "",
        "",
        "",
    )
