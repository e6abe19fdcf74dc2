"""Product descriptions: the nh3 allow-list of the editor's formats, and plain text as paragraphs."""

from __future__ import annotations

import pytest

from mercato.catalog.service.rich_text import as_paragraphs, sanitize_description


@pytest.mark.parametrize(
    ("_case", "given", "stored"),
    [
        ("script and its content", "<p>ok</p><script>alert(1)</script>", "<p>ok</p>"),
        ("style element", "<style>p { color: red }</style><p>ok</p>", "<p>ok</p>"),
        (
            "event handler",
            '<p onclick="steal()">Hi <strong onmouseover="x()">there</strong></p>',
            "<p>Hi <strong>there</strong></p>",
        ),
        ("style attribute", '<p style="color:red">red</p><em style="x">e</em>', "<p>red</p><em>e</em>"),
        ("javascript: link", '<a href="javascript:alert(1)">x</a>', '<a rel="nofollow noopener">x</a>'),
        ("data: link", '<a href="data:text/html,x">x</a>', '<a rel="nofollow noopener">x</a>'),
        (
            "link keeps only href, gets rel",
            '<a href="https://example.com/a" target="_blank" rel="opener" class="x">x</a>',
            '<a href="https://example.com/a" rel="nofollow noopener">x</a>',
        ),
        (
            "images only from our storage",
            '<img src="/media/products/1/a.jpg" alt="a" onerror="x()">'
            '<img src="https://evil.example/x.png"><img src="/media/../secret.png">'
            '<img src="data:image/png;base64,AAAA">',
            '<img src="/media/products/1/a.jpg" alt="a"><img><img><img>',
        ),
        (
            "the editor's formats survive",
            "<h2>T</h2><h3>S</h3><ul><li>a</li></ul><ol><li>b</li></ol><blockquote>q</blockquote>"
            "<p>a<br>b <u>u</u> <s>s</s> <em>e</em> <strong>b</strong></p>",
            "<h2>T</h2><h3>S</h3><ul><li>a</li></ul><ol><li>b</li></ol><blockquote>q</blockquote>"
            "<p>a<br>b <u>u</u> <s>s</s> <em>e</em> <strong>b</strong></p>",
        ),
        ("other tags leave their text", '<h1>T</h1><div class="x"><span>y</span></div>', "Ty"),
        ("comments", "<p>ok</p><!-- note -->", "<p>ok</p>"),
        (
            "plain text",
            "Line one\nline two\n\nTom & Jerry <3",
            "<p>Line one<br>line two</p><p>Tom &amp; Jerry &lt;3</p>",
        ),
        ("blank", "  \n ", ""),
    ],
)
def test_sanitises_to_the_editor_formats(_case: str, given: str, stored: str) -> None:
    assert sanitize_description(given) == stored


def test_sanitising_twice_changes_nothing() -> None:
    once = sanitize_description('<p>a <a href="https://example.com">b</a></p>\n\nplain')
    assert sanitize_description(once) == once


def test_stored_plain_text_reads_as_paragraphs() -> None:
    assert as_paragraphs("Tom &amp; Jerry\nline\n\nnext") == "<p>Tom &amp; Jerry<br>line</p><p>next</p>"
    assert as_paragraphs("<p>html</p>\n\nstays") == "<p>html</p>\n\nstays"
