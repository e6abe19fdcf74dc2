"""China's administrative divisions (省/市/区, GB/T 2260) for addresses: the options of the three
region pickers, the check that the district lies in the city and the city in the province, and
the parser of a pasted address line ("张三 13800138000 广东省深圳市南山区科技园路1号").

The tree is ``identity/data/regions.json``, generated from the npm package @vant/area-data by
``scripts/gen-regions`` (ADR 0032): provinces, cities and districts only. Municipalities
(北京市 → 北京市 → 朝阳区) and county-level cities under a province (湖北省 → 省直辖县 → 仙桃市)
have three levels like the rest. Addresses keep the names, as shoppers and couriers read them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import phonenumbers

from mercato.core.errors import FieldError
from mercato.core.settings import get_settings
from mercato.identity.errors import RegionInvalid
from mercato.identity.schemas import ParsedAddress, Region, RegionChoices

DATA = Path(__file__).resolve().parent.parent / "data" / "regions.json"
#: Suffixes a shopper may leave out when typing a region (longest first): "广东" for 广东省.
SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "林区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)
#: Labels that copied addresses carry ("收货人：张三 手机号码：…"); dropped before parsing.
LABELS = re.compile(
    r"(收货人|收件人|联系人|姓名|手机号码|手机号|手机|电话|联系电话|所在地区|地区|详细地址|地址)\s*[:：]"
)
SEPARATORS = re.compile(r"[\s,，;；、|/]+")
#: A recipient is a short run of letters (a Chinese name, or a Latin one), nothing else.
RECIPIENT = re.compile(r"^[^\d\W]{1,20}(?:[·.][^\d\W]{1,20})?$")


@dataclass
class _Node:
    code: str
    name: str
    children: list[_Node] = field(default_factory=list)

    @property
    def region(self) -> Region:
        return Region(code=self.code, name=self.name)

    def child(self, name: str) -> _Node | None:
        return next((node for node in self.children if node.name == name), None)


@cache
def _root() -> _Node:
    """The whole tree, read once per process."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))["regions"]
    return _Node(
        "",
        "",
        [
            _Node(
                p, p_name, [_Node(c, c_name, [_Node(d, d_name) for d, d_name in ds]) for c, c_name, ds in cs]
            )
            for p, p_name, cs in raw
        ],
    )


@cache
def _by_code() -> dict[str, _Node]:
    provinces = _root().children
    cities = [city for province in provinces for city in province.children]
    return {node.code: node for node in [*provinces, *cities]}


def list_regions(*, parent_code: str = "") -> list[Region]:
    """The provinces (no parent), a province's cities or a city's districts; [] for an unknown code."""
    parent = _root() if not parent_code else _by_code().get(parent_code)
    return [node.region for node in parent.children] if parent else []


def region_choices(*, province: str = "", city: str = "", district: str = "") -> RegionChoices:
    """What the pickers show for these names: a name that does not belong under the one above is
    dropped (the shopper picks again); a province with one city (a municipality) has it chosen."""
    root = _root()
    p_node = root.child(province.strip())
    c_node = p_node.child(city.strip()) if p_node else None
    if p_node is not None and c_node is None and len(p_node.children) == 1:
        c_node = p_node.children[0]
    d_node = c_node.child(district.strip()) if c_node else None
    return RegionChoices(
        province=p_node.name if p_node else "",
        city=c_node.name if c_node else "",
        district=d_node.name if d_node else "",
        provinces=[node.region for node in root.children],
        cities=[node.region for node in p_node.children] if p_node else [],
        districts=[node.region for node in c_node.children] if c_node else [],
    )


def _invalid(name: str) -> RegionInvalid:
    return RegionInvalid(fields=[FieldError(("body", name), RegionInvalid.code, RegionInvalid.message)])


def check_region(*, province: str, city: str, district: str) -> None:
    """Raises: RegionInvalid at the first field that is not in the list under the one above."""
    p_node = _root().child(province)
    if p_node is None:
        raise _invalid("province")
    c_node = p_node.child(city)
    if c_node is None:
        raise _invalid("city")
    if c_node.child(district) is None:
        raise _invalid("district")


# -- paste-to-parse ----------------------------------------------------------------------------


def _forms(name: str) -> list[str]:
    """The ways ``name`` may be written: in full, and without its suffix when two characters stay."""
    forms = [name]
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            forms.append(name[: -len(suffix)])
            break
    return forms


def _match(text: str, start: int, nodes: list[_Node]) -> tuple[_Node, int] | None:
    """The node whose name (full or short) is written at ``start`` (skipping spaces), preferring
    the longest; with where its name ends."""
    while start < len(text) and text[start].isspace():
        start += 1
    best: tuple[_Node, int] | None = None
    for node in nodes:
        for form in _forms(node.name):
            if text.startswith(form, start) and (best is None or start + len(form) > best[1]):
                best = (node, start + len(form))
    return best


def _find(text: str, nodes: list[_Node]) -> tuple[_Node, int, int] | None:
    """The first place in ``text`` where one of ``nodes`` is written: (node, start, end)."""
    for start in range(len(text)):
        found = _match(text, start, nodes)
        if found is not None:
            return found[0], start, found[1]
    return None


def _regions(text: str) -> tuple[list[_Node], int, int] | None:
    """The province, city and district written in ``text`` (as many as found, at least a city),
    where they start and where they end. A line may begin with the city ("深圳市南山区…") or,
    for a municipality's district, with the district."""
    root = _root()
    found = _find(text, root.children)
    if found is not None:
        p_node, start, end = found
        chain = [p_node]
        city = _match(text, end, p_node.children)
        if city is None and len(p_node.children) == 1:
            city = (p_node.children[0], end)
        if city is None:  # a county-level city under the province: "湖北省仙桃市"
            for c_node in p_node.children:
                district = _match(text, end, c_node.children)
                if district is not None:
                    return [p_node, c_node, district[0]], start, district[1]
        if city is not None:
            chain.append(city[0])
            end = city[1]
            district = _match(text, end, city[0].children)
            if district is not None:
                chain.append(district[0])
                end = district[1]
        return chain, start, end
    cities = [(p, c) for p in root.children for c in p.children]
    found = _find(text, [c for _p, c in cities])
    if found is None:
        return None
    c_node, start, end = found
    p_node = next(p for p, c in cities if c is c_node)
    chain = [p_node, c_node]
    district = _match(text, end, c_node.children)
    if district is not None:
        chain.append(district[0])
        end = district[1]
    return chain, start, end


def parse_address_line(text: str) -> ParsedAddress:
    """Recognise the recipient, mobile number, province, city, district and street in one pasted
    line, in any order; what is not recognised stays blank for the shopper to fill in."""
    text = LABELS.sub(" ", text.replace("\r", " ").replace("\n", " "))[:500]
    phone = ""
    for match in phonenumbers.PhoneNumberMatcher(text, get_settings().default_region):
        phone = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.NATIONAL)
        phone = re.sub(r"\D", "", phone)
        text = f"{text[: match.start]} {text[match.end :]}"
        break
    parts = {"recipient": "", "phone": phone, "province": "", "city": "", "district": "", "detail": ""}
    found = _regions(text)
    rest = text
    if found is not None:
        chain, start, end = found
        for key, node in zip(("province", "city", "district"), chain, strict=False):
            parts[key] = node.name
        # The street runs from the regions to the end; a name may stand before the regions or,
        # as the last piece after them, a two-to-four letter word ("…1号，张三").
        tail = [piece for piece in SEPARATORS.split(text[end:]) if piece]
        before = [piece for piece in SEPARATORS.split(text[:start]) if RECIPIENT.match(piece)]
        if not before and len(tail) > 1 and RECIPIENT.match(tail[-1]) and len(tail[-1]) <= 4:
            before = [tail.pop()]
        parts["detail"] = " ".join(tail)[:200]
        rest = " ".join(before)
    candidates = [piece for piece in SEPARATORS.split(rest) if piece and RECIPIENT.match(piece)]
    if candidates:
        parts["recipient"] = candidates[0][:50]
    return ParsedAddress(**parts)
