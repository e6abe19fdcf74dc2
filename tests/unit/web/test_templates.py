"""Template rules that a rendered page cannot show by itself."""

from __future__ import annotations

import re

from mercato.web.templates import SEARCH_PATH

IMPORT = re.compile(r"{%-?\s*(?:import|from)\s+[\"']([^\"']+)[\"'][^%]*%}")


def test_every_macro_import_sees_the_page_context() -> None:
    """Macros read ``csrf_token`` and ``locale`` from the page; imported without context they
    render an empty CSRF field, and the form is refused with 403 in a browser."""
    missing = []
    for folder in SEARCH_PATH:
        for path in folder.rglob("*.html"):
            for match in IMPORT.finditer(path.read_text(encoding="utf-8")):
                if "with context" not in match.group(0):
                    missing.append(f"{path.relative_to(folder)}: {match.group(0)}")

    assert missing == []
