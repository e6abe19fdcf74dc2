"""Local disk media storage: safe keys only, atomic writes, read back, delete, URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mercato.core.storage import LocalDiskStorage, check_key, content_type_of


def files_under(path: Path) -> list[Path]:
    return list(path.rglob("*"))


@pytest.mark.parametrize(
    ("_case", "key"),
    [
        ("empty", ""),
        ("parent", ".."),
        ("leading parent", "../secret.png"),
        ("inner parent", "products/../../secret.png"),
        ("dots inside a name", "products/a..png"),
        ("absolute", "/etc/passwd"),
        ("backslash", "products\\..\\secret.png"),
        ("windows drive", "C:/secret.png"),
        ("current dir", "products/./a.png"),
        ("hidden file", "products/.a.png"),
        ("empty segment", "products//a.png"),
        ("trailing slash", "products/"),
        ("nul byte", "products/a.png\x00.txt"),
        ("space", "products/a b.png"),
        ("newline", "products/a.png\n"),
        ("too long", "a" * 201),
    ],
)
async def test_refuses_unsafe_keys(tmp_path: Path, _case: str, key: str) -> None:
    storage = LocalDiskStorage(tmp_path / "media")

    with pytest.raises(ValueError, match="unsafe media key"):
        check_key(key)
    with pytest.raises(ValueError, match="unsafe media key"):
        await storage.save(key, b"data", "image/png")
    with pytest.raises(ValueError, match="unsafe media key"):
        await storage.open(key)
    with pytest.raises(ValueError, match="unsafe media key"):
        await storage.delete(key)
    with pytest.raises(ValueError, match="unsafe media key"):
        storage.url(key)
    assert files_under(tmp_path) == []


async def test_refuses_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    storage = LocalDiskStorage(root)

    with pytest.raises(ValueError, match="unsafe media key"):
        await storage.save("link/a.png", b"data", "image/png")
    assert list(outside.iterdir()) == []


async def test_saves_reads_and_deletes(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path / "media", "/media")

    await storage.save("products/7/abc.png", b"first", "image/png")
    await storage.save("products/7/abc.png", b"second", "image/png")

    assert await storage.exists("products/7/abc.png")
    assert await storage.open("products/7/abc.png") == b"second"
    assert storage.url("products/7/abc.png") == "/media/products/7/abc.png"
    assert sorted(p.name for p in (tmp_path / "media" / "products" / "7").iterdir()) == ["abc.png"]
    await storage.delete("products/7/abc.png")
    await storage.delete("products/7/abc.png")  # already gone: not an error
    assert not await storage.exists("products/7/abc.png")
    with pytest.raises(FileNotFoundError):
        await storage.open("products/7/abc.png")


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        ("a/b.jpg", "image/jpeg"),
        ("a/b.JPEG", "image/jpeg"),
        ("b.png", "image/png"),
        ("b.webp", "image/webp"),
        ("b.svg", None),
        ("b.html", None),
        ("b", None),
    ],
)
def test_content_type_follows_the_extension(key: str, content_type: str | None) -> None:
    assert content_type_of(key) == content_type
