"""Declared console list pages (ADR 0031): a ``ListPage`` names its columns, filters, sort
options, bulk actions and export, and a ``fetch`` function that calls the domain; the block reads
and checks the query, checks the permission, pages, exports and confirms — the page's template
is ``admin/_list_page.html`` (or extends it).

- Filters: search boxes (trimmed, capped), choices (an unknown value counts as blank) and
  checkboxes (``1`` or blank).
- Sorting: only the declared options (an unknown ``sort`` is ignored: the first option applies).
  Whole lists (``fetch`` answers no cursor) are sorted here; paged lists keep the service's order
  and declare no sorts.
- Paging: the service's cursor, the filters kept in the next-page link.
- Export: ``?export=csv`` or ``?export=xlsx`` writes every filtered row (up to
  ``tabular.MAX_ROWS``) through ``core/tabular.py``, with the columns' labels as the header.
- Bulk actions: a checkbox per row; ``POST <path>bulk`` with ``action`` and ``ids`` shows a
  confirm page first (the no-script fallback of the dialog), then runs the action with its own
  permission in one transaction (the domain audits each change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mercato.admin.routes._shared import download, next_page, staff_for, to_login
from mercato.core import tabular
from mercato.core.db import uow
from mercato.core.i18n import N_, gettext
from mercato.core.settings import get_settings
from mercato.web.forms import locale_of, parse_id, read_form, read_list
from mercato.web.session import StaffSession
from mercato.web.templates import render

#: How a column's cell is drawn (``admin/_list_page.html``): its value as text, in <code>, as a
#: link (``link``), as a date or a date and time in the shop's time zone, or a number.
CELL_KINDS = frozenset({"text", "code", "link", "date", "datetime", "number"})
#: The most rows one bulk action takes (one page's worth).
MAX_BULK = 100
#: What the block itself says on the page (``?notice=``).
NOTICES = {"nothing": N_("Tick at least one row, then choose an action.")}


@dataclass(frozen=True)
class Column:
    """A column: its key, label (msgid), the row's value (also what the export writes) and how
    the cell is drawn."""

    key: str
    label: str
    value: Callable[[Any], tabular.Cell | dt.date]
    kind: str = "text"
    link: Callable[[Any], str] | None = None
    #: A msgid for each value (e.g. a status), translated on the page and in the export.
    labels: dict[str, str] | None = None
    lang: str = ""

    def __post_init__(self) -> None:
        assert self.kind in CELL_KINDS, self.kind


@dataclass(frozen=True)
class Search:
    """A search box."""

    name: str
    label: str
    hint: str = ""
    maxlength: int = 100


@dataclass(frozen=True)
class Choice:
    """A select with a blank first option (``blank``) and ``(value, msgid)`` options, or options
    ``load``-ed from the domain in the page's transaction (``(value, text)``, text shown as is:
    e.g. the warehouses)."""

    name: str
    label: str
    blank: str
    options: tuple[tuple[str, str], ...] = ()
    load: Callable[[AsyncSession], Awaitable[tuple[tuple[str, str], ...]]] | None = None


@dataclass(frozen=True)
class Toggle:
    """A checkbox (``label`` beside it): ticked, the filter's value is ``"1"``; anything else
    counts as blank."""

    name: str
    label: str
    widget: ClassVar[str] = "checkbox"


@dataclass(frozen=True)
class Sort:
    """A sort option of a whole list: its key (the ``sort`` value), label, and the row's key."""

    key: str
    label: str
    by: Callable[[Any], Any]
    descending: bool = False


@dataclass(frozen=True)
class Bulk:
    """An action on the ticked rows: ``run`` does it (through the domain, which audits it)."""

    name: str
    label: str
    permission: str
    #: The confirm question (a msgid), asked in the dialog and on the confirm page.
    question: str
    notice: str
    run: Callable[[AsyncSession, StaffSession, list[int]], Awaitable[None]]


@dataclass(frozen=True)
class ListQuery:
    """The checked query of a list page: its filters (blank when not given), sort and cursor."""

    filters: dict[str, str]
    sort: str
    cursor: str | None


#: ``fetch(session, query, limit)``: the rows of one page and the next page's cursor (a whole
#: list answers every row and None).
Fetch = Callable[[AsyncSession, ListQuery, int], Awaitable[tuple[Sequence[Any], str | None]]]


@dataclass(frozen=True)
class ListPage:
    """A declared console list page (see the module docstring)."""

    key: str
    path: str
    title: str
    permission: str
    columns: tuple[Column, ...]
    fetch: Fetch
    filters: tuple[Search | Choice | Toggle, ...] = ()
    sorts: tuple[Sort, ...] = ()
    bulk: tuple[Bulk, ...] = ()
    export: str = ""
    empty: str = ""
    page_size: int = 50
    row_id: Callable[[Any], int] = field(default=lambda row: int(row.id))
    template: str = "admin/_list_page.html"

    @property
    def bulk_url(self) -> str:
        return f"{self.path.rstrip('/')}/bulk"

    def query(
        self, request: Request, loaded: dict[str, tuple[tuple[str, str], ...]] | None = None
    ) -> ListQuery:
        """The filters, sort and cursor of the request, each checked (what is wrong is dropped);
        ``loaded`` holds the options of the choices that load theirs."""
        params = request.query_params
        filters: dict[str, str] = {}
        for spec in self.filters:
            text = params.get(spec.name, "").strip()
            if isinstance(spec, Search):
                filters[spec.name] = text[: spec.maxlength]
            elif isinstance(spec, Toggle):
                filters[spec.name] = "1" if text == "1" else ""
            else:
                options = (loaded or {}).get(spec.name, spec.options)
                filters[spec.name] = text if text in {value for value, _label in options} else ""
        sorts = [sort.key for sort in self.sorts]
        sort = params.get("sort", "")
        return ListQuery(
            filters=filters,
            sort=sort if sort in sorts else (sorts[0] if sorts else ""),
            cursor=params.get("cursor") or None,
        )

    def _sorted(self, rows: Sequence[Any], query: ListQuery) -> Sequence[Any]:
        for sort in self.sorts:
            if sort.key == query.sort:
                return sorted(rows, key=sort.by, reverse=sort.descending)
        return rows

    def _kept(self, query: ListQuery) -> dict[str, str]:
        """The filters (and a chosen sort) the page's links keep."""
        kept = {name: value for name, value in query.filters.items() if value}
        if self.sorts and query.sort != self.sorts[0].key:
            kept["sort"] = query.sort
        return kept

    async def _all_rows(self, session: AsyncSession, query: ListQuery) -> list[Any]:
        rows: list[Any] = []
        cursor: str | None = None
        while len(rows) < tabular.MAX_ROWS:
            page, cursor = await self.fetch(session, ListQuery(query.filters, query.sort, cursor), 200)
            rows.extend(page)
            if cursor is None:
                break
        return list(self._sorted(rows, query))[: tabular.MAX_ROWS]

    def cells(self, row: Any, locale: str) -> list[tabular.Cell]:
        """The row's exported cells: labels translated, times in the shop's time zone."""
        out: list[tabular.Cell] = []
        for column in self.columns:
            value = column.value(row)
            if column.labels is not None and isinstance(value, str):
                value = gettext(column.labels.get(value, value), locale)
            elif isinstance(value, dt.datetime):
                local = value.astimezone(get_settings().tz)
                value = (
                    local.date().isoformat() if column.kind == "date" else local.strftime("%Y-%m-%d %H:%M:%S")
                )
            elif isinstance(value, dt.date):
                value = value.isoformat()
            out.append(value)
        return out

    async def _load_choices(self, session: AsyncSession) -> dict[str, tuple[tuple[str, str], ...]]:
        """The options of the choices that load theirs, by filter name."""
        return {
            spec.name: await spec.load(session)
            for spec in self.filters
            if isinstance(spec, Choice) and spec.load is not None
        }

    async def respond(
        self,
        request: Request,
        *,
        context: Callable[[AsyncSession, StaffSession], Awaitable[dict[str, Any]]] | None = None,
        notices: dict[str, str] | None = None,
        status_code: int = 200,
        **extra: Any,
    ) -> Response:
        """The page (or its export): signed-in staff holding ``permission`` only; ``context``
        adds what the page's own panels need, ``extra`` too (e.g. a refused form's problem).

        Raises:
            MissingPermission (403 page); InvalidCursor (400).
        """
        query = self.query(request)
        file_format = {"csv": tabular.FileFormat.csv, "xlsx": tabular.FileFormat.xlsx}.get(
            request.query_params.get("export", "")
        )
        if not self.export:
            file_format = None
        async with uow(write=False) as session:
            auth = await staff_for(request, session, self.permission)
            if auth is None:
                return to_login(request)
            choices = await self._load_choices(session)
            if choices:
                query = self.query(request, choices)
            if file_format is not None:
                rows = await self._all_rows(session, query)
            else:
                page, next_cursor = await self.fetch(session, query, self.page_size)
                rows = list(self._sorted(page, query))
            if context is not None:
                extra = {**await context(session, auth), **extra}
        locale = locale_of(request)
        if file_format is not None:
            header = [gettext(column.label, locale) for column in self.columns]
            content = await tabular.write_table_async(
                file_format, header, [self.cells(row, locale) for row in rows]
            )
            return download(content, file_format.media_type, f"{self.export}.{file_format.value}")
        kept = self._kept(query)
        notice = {**NOTICES, **(notices or {})}.get(request.query_params.get("notice") or "")
        return render(
            request,
            self.template,
            status_code,
            staff=auth.staff,
            listing=self,
            query=query,
            choices=choices,
            rows=rows,
            kept=kept,
            actions=[action for action in self.bulk if auth.staff.has(action.permission)],
            next_url=next_page(self.path, kept, next_cursor),
            notice=notice,
            **extra,
        )

    async def run_bulk(self, request: Request) -> Response:
        """A bulk action: the confirm page first (no ``confirmed``), then the action itself.

        Raises:
            MissingPermission (403 page): without the action's permission.
        """
        values = await read_form(request)
        ids = sorted({i for i in map(parse_id, await read_list(request, "ids")) if i is not None})[:MAX_BULK]
        action = next((a for a in self.bulk if a.name == values.get("action")), None)
        async with uow() as session:
            auth = await staff_for(request, session, action.permission if action else self.permission)
            if auth is None:
                return to_login(request)
            if action is None or not ids:
                return RedirectResponse(f"{self.path}?notice=nothing", status_code=303)
            if values.get("confirmed") != "1":
                return confirm_page(
                    request,
                    auth,
                    title=action.label,
                    question=action.question,
                    count=len(ids),
                    action_url=self.bulk_url,
                    fields=[("action", action.name), *(("ids", str(i)) for i in ids)],
                    cancel_url=self.path,
                )
            await action.run(session, auth, ids)
        return RedirectResponse(f"{self.path}?notice={action.notice}", status_code=303)

    def register(self, router: APIRouter, prefix: str, **options: Any) -> None:
        """Add the page (``GET``) and, with bulk actions, ``POST …bulk`` to ``router`` (whose
        prefix is ``prefix``)."""
        local = self.path.removeprefix(prefix)

        async def page(request: Request) -> Response:
            return await self.respond(request, **options)

        router.add_api_route(local, page, methods=["GET"], name=f"admin-{self.key}-list")
        if self.bulk:

            async def bulk(request: Request) -> Response:
                return await self.run_bulk(request)

            router.add_api_route(
                self.bulk_url.removeprefix(prefix), bulk, methods=["POST"], name=f"admin-{self.key}-bulk"
            )


def confirm_page(
    request: Request,
    auth: StaffSession,
    *,
    title: str,
    question: str,
    action_url: str,
    fields: Sequence[tuple[str, str]],
    cancel_url: str,
    count: int | None = None,
) -> Response:
    """The confirm step of a destructive action without script (with script, the dialog asks):
    the question (msgid), and a form posting ``fields`` again with ``confirmed=1``. Changes
    nothing."""
    return render(
        request,
        "admin/_confirm.html",
        staff=auth.staff,
        title=title,
        question=question,
        count=count,
        action_url=action_url,
        fields=fields,
        cancel_url=cancel_url,
    )
