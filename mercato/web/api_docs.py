"""The Swagger UI page at ``/api/docs``: the same page FastAPI writes, but started by a static
script (``static/api-docs.js``) instead of an inline one, so it needs no ``'unsafe-inline'``
(ADR 0023). Rendered once per process: it has no per-request content."""

from __future__ import annotations

from functools import cache

from starlette.responses import HTMLResponse

from mercato.web.templates import templates

OPENAPI_URL = "/api/openapi.json"


@cache
def _html() -> str:
    return templates.get_template("api_docs.html").render(title="Mercato API", openapi_url=OPENAPI_URL)


def api_docs_page() -> HTMLResponse:
    """The Swagger UI page for the API description at ``OPENAPI_URL``."""
    return HTMLResponse(_html())
