"""The declared list page block (mercato/admin/listing.py), through the banned-term dictionary:
filters, the sort whitelist, the bulk action with its confirm step, CSV and XLSX export of the
filtered rows; refusals change nothing."""

from __future__ import annotations

import datetime as dt
import io
import re

from httpx import AsyncClient
from openpyxl import load_workbook

from mercato import catalog
from mercato.catalog.models import BannedTerm
from mercato.core import clock
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.catalog import SYSTEM, count
from tests.web.pages import EN, csrf_of, staff_sign_in

TERMS = "/admin/catalog/banned-terms"
BULK = "/admin/catalog/banned-terms/bulk"


async def _add(term: str, language: str = "zh") -> catalog.BannedTermRead:
    async with uow() as session:
        added = await catalog.add_banned_term(
            session,
            data=catalog.BannedTermCreate(term=term, language=catalog.TermLanguage(language)),
            actor=SYSTEM,
        )
    clock.advance(dt.timedelta(minutes=1))
    return added


async def _state() -> list[tuple[str, bool]]:
    async with uow(write=False) as session:
        return [(t.term, t.is_active) for t in await catalog.list_banned_terms(session)]


def _terms_shown(page: str) -> list[str]:
    return re.findall(r'<td data-label="Term">(?:<span lang="en">)?([^<]*)', page)


async def test_filters_and_whitelisted_sorts_choose_the_rows(client: AsyncClient) -> None:
    await _add("最低价")
    await _add("第一")
    await _add("best", "en")
    await staff_sign_in(client, "reader@example.com", "catalog.read")

    everything = await client.get(TERMS, headers=EN)
    chinese = await client.get(TERMS, params={"language": "zh"}, headers=EN)
    text = await client.get(TERMS, params={"q": "低"}, headers=EN)
    newest = await client.get(TERMS, params={"sort": "newest"}, headers=EN)
    bad_sort = await client.get(TERMS, params={"sort": "term; drop table", "language": "fr"}, headers=EN)

    assert _terms_shown(everything.text) == ["best", "最低价", "第一"]
    assert _terms_shown(chinese.text) == ["最低价", "第一"]
    assert _terms_shown(text.text) == ["最低价"]
    assert _terms_shown(newest.text) == ["best", "第一", "最低价"]
    assert (
        '<a href="/admin/catalog/banned-terms?sort=newest" aria-current="true">Newest first</a>'
        in newest.text
    )
    assert bad_sort.status_code == 200  # an unknown sort or choice is ignored, never a 500
    assert _terms_shown(bad_sort.text) == ["best", "最低价", "第一"]
    assert 'name="ids"' not in everything.text  # no bulk action without catalog.review


async def test_export_writes_exactly_the_filtered_rows_as_csv_and_xlsx(client: AsyncClient) -> None:
    first = await _add("最低价")
    await _add("best", "en")
    async with uow() as session:
        await catalog.deactivate_banned_term(session, term_id=first.id, actor=SYSTEM)
    await staff_sign_in(client, "reader@example.com", "catalog.read")

    page = await client.get(TERMS, params={"language": "zh"}, headers=EN)
    csv_file = await client.get(TERMS, params={"language": "zh", "export": "csv"}, headers=EN)
    xlsx_file = await client.get(
        TERMS, params={"export": "xlsx", "sort": "newest"}, headers={"Accept-Language": "zh-CN"}
    )

    day = first.created_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert (
        '<a href="/admin/catalog/banned-terms?language=zh&amp;export=csv" download>Export CSV</a>'
        in page.text
    )
    assert csv_file.status_code == 200
    assert csv_file.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_file.headers["content-disposition"] == 'attachment; filename="banned-terms.csv"'
    assert csv_file.content.decode("utf-8-sig").splitlines() == [
        "Term,Language,Status,Added",
        f"最低价,Chinese (matched anywhere in the text),Inactive,{day}",
    ]
    sheet = load_workbook(io.BytesIO(xlsx_file.content)).active
    assert sheet is not None
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["禁用词", "语言", "状态", "添加时间"],
        ["best", "英文（整词匹配，不区分大小写）", "正常", day],
        ["最低价", "中文（文本中任意位置匹配）", "已停用", day],
    ]


async def test_a_bulk_action_asks_first_then_deactivates_the_ticked_terms(client: AsyncClient) -> None:
    one, two, three = await _add("最低价"), await _add("第一"), await _add("顶级")
    await staff_sign_in(client, "reviewer@example.com", "catalog.read", "catalog.review")
    page = await client.get(TERMS, headers=EN)
    token = csrf_of(page)
    before = await count(AuditEntry)

    ask = await client.post(
        BULK,
        data={"action": "deactivate", "ids": [str(one.id), str(three.id)], "csrf_token": token},
        headers=EN,
    )
    unchanged = await _state()
    done = await client.post(
        BULK,
        data={
            "action": "deactivate",
            "ids": [str(one.id), str(three.id)],
            "confirmed": "1",
            "csrf_token": token,
        },
    )
    shown = await client.get(done.headers["location"], headers=EN)

    assert (
        f'<form method="post" action="{BULK}" id="term-list-bulk" x-data="confirmDialog" x-on:submit="ask">'
        in page.text
    )
    assert '<dialog class="confirm" id="term-list-bulk-deactivate"' in page.text
    assert ask.status_code == 200  # the no-script confirm page, which changes nothing
    assert "Deactivate the ticked terms?" in ask.text
    assert "Rows ticked: 2" in ask.text
    assert '<input type="hidden" name="confirmed" value="1">' in ask.text
    assert unchanged == [("最低价", True), ("第一", True), ("顶级", True)]
    assert done.status_code == 303
    assert done.headers["location"] == f"{TERMS}?notice=deactivated_many"
    assert "The ticked terms were deactivated." in shown.text
    assert await _state() == [("最低价", False), ("第一", True), ("顶级", False)]
    assert await count(AuditEntry) == before + 2
    assert two.is_active


async def test_a_bulk_action_needs_its_permission_and_ticked_rows(client: AsyncClient) -> None:
    term = await _add("最低价")
    await staff_sign_in(client, "reader@example.com", "catalog.read", "catalog.write")
    token = csrf_of(await client.get("/admin/"))
    before = (await count(BannedTerm), await count(AuditEntry))

    refused = await client.post(
        BULK, data={"action": "deactivate", "ids": [str(term.id)], "confirmed": "1", "csrf_token": token}
    )
    after_refused = (await count(BannedTerm), await count(AuditEntry))
    client.cookies.clear()
    await staff_sign_in(client, "reviewer@example.com", "catalog.read", "catalog.review")
    token = csrf_of(await client.get("/admin/"))
    reviewer_before = await count(AuditEntry)
    nothing = await client.post(BULK, data={"action": "deactivate", "confirmed": "1", "csrf_token": token})
    unknown = await client.post(
        BULK, data={"action": "delete", "ids": [str(term.id)], "confirmed": "1", "csrf_token": token}
    )

    assert refused.status_code == 403
    assert after_refused == before
    assert nothing.status_code == 303
    assert nothing.headers["location"] == f"{TERMS}?notice=nothing"
    assert unknown.status_code == 303
    assert await count(AuditEntry) == reviewer_before
    assert await _state() == [("最低价", True)]
