"""HTML form posts: read the body, check CSRF first, validate into an input model, and turn a
refusal (pydantic or domain error) into messages for the re-rendered form.

Routes use it like this::

    values = await read_form(request)            # CsrfFailed (403 page) before anything else
    try:
        data = validate(identity.PasswordLogin, values, "identifier", "password")
        async with uow() as session:
            ...                                  # persist_changes errors still commit
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return render(request, "...", problem.status, errors=problem, values=values)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from mercato.core.errors import DomainError
from mercato.core.i18n import DEFAULT_LOCALE, gettext
from mercato.core.schemas import MAX_ID, TEXT_VALUES
from mercato.web.csrf import FIELD, HEADER, verify_csrf
from mercato.web.problems import STATUS, domain_detail, field_message
from mercato.web.text_input import text_errors

M = TypeVar("M", bound=BaseModel)
#: What a form post may be refused with; catch these around validation and the use case.
FORM_ERRORS = (ValidationError, DomainError)


@dataclass(frozen=True)
class FormProblem:
    """Why a form was refused: a summary, messages per field, and the status of the page."""

    status: int
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after)} if self.retry_after else {}


def locale_of(request: Request) -> str:
    value = getattr(request.state, "locale", None)
    return value if isinstance(value, str) else DEFAULT_LOCALE


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields (first value of each, files ignored), once the CSRF token is checked.

    The token comes from the ``csrf_token`` field, or from the ``X-CSRF-Token`` header that
    ``base.html`` makes htmx send with every request.

    Every field may span lines (a textarea); the input model it is validated into decides.

    Raises:
        CsrfFailed (403): the token is missing or does not match the cookie.
        RequestValidationError (422 page): a field holds control or text-direction characters.
    """
    form = await request.form()
    submitted = form.get(FIELD) or request.headers.get(HEADER)
    verify_csrf(request, submitted if isinstance(submitted, str) else None)
    errors = text_errors("body", form.multi_items(), multiline=True)
    if errors:
        raise RequestValidationError(errors)
    values: dict[str, str] = {}
    for name, value in form.multi_items():
        if name != FIELD and isinstance(value, str):
            values.setdefault(name, value)
    return values


async def read_list(request: Request, name: str) -> list[str]:
    """Every value posted in field ``name`` (a checkbox group); call after ``read_form``, which
    parsed the form and checked its CSRF token."""
    form = await request.form()
    return [value for value in form.getlist(name) if isinstance(value, str)]


@dataclass(frozen=True)
class Upload:
    """A file posted with a form, read into memory (the body size is capped by the middleware)."""

    data: bytes
    filename: str
    content_type: str | None


async def read_uploads(request: Request, name: str) -> list[Upload]:
    """The files posted in field ``name`` (empty file inputs skipped), read, with the form's
    temporary files closed; call after ``read_form``."""
    form = await request.form()
    try:
        return [
            Upload(await item.read(), item.filename, item.content_type)
            for item in form.getlist(name)
            if isinstance(item, UploadFile) and item.filename
        ]
    finally:
        await form.close()


async def read_upload(request: Request, name: str) -> Upload | None:
    """The one file posted in field ``name``, or None when none was chosen (see ``read_uploads``)."""
    files = await read_uploads(request, name)
    return files[0] if files else None


def validate(model: type[M], values: dict[str, str], *names: str, checkboxes: tuple[str, ...] = ()) -> M:
    """Build ``model`` from the named fields; a blank field counts as not given.

    ``checkboxes`` are booleans: ticked when present in the form, unticked otherwise. Whole
    numbers are typed as text here, so ``"2"`` parses (``TEXT_VALUES``).

    Raises:
        pydantic.ValidationError: a field is missing, too long, or malformed.
    """
    data: dict[str, object] = {name: values[name] for name in names if values.get(name, "").strip()}
    for name in checkboxes:
        data[name] = name in values
    return model.model_validate(data, context=TEXT_VALUES)


def parse_id(value: str | None) -> int | None:
    """The id a query or form value names: ASCII digits in 1..2**63-1 (a BIGINT), else None.

    ``str.isdigit`` alone is not enough: it accepts ``"²"``, which ``int`` refuses, and any
    number of digits, which the database refuses.
    """
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def form_problem(exc: ValidationError | DomainError, locale: str) -> FormProblem:
    """Messages for the re-rendered form, in ``locale``, with the status the API would answer."""
    if isinstance(exc, ValidationError):
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][-1]) if error["loc"] else ""
            fields.setdefault(name, field_message(error, locale))
        return FormProblem(422, gettext("Some fields are not valid.", locale), fields)
    fields = {}
    for item in exc.fields:
        name = str(item.loc[-1]) if item.loc else ""
        fields.setdefault(name, gettext(item.message, locale))
    return FormProblem(STATUS[exc.kind], domain_detail(exc, locale), fields, exc.retry_after)
