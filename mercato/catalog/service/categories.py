"""The category tree: create, edit, move (with the whole subtree), reorder, delete, read.

Each category stores its materialised ``path`` ("/1/4/9/": ids from the root) and ``depth``,
so a subtree is one indexed prefix match and a move rewrites the subtree in one UPDATE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import (
    CategoryCycle,
    CategoryInUse,
    CategoryNotFound,
    CategoryOrderMismatch,
    CategoryTooDeep,
    SlugTaken,
)
from mercato.catalog.models import Category, Product
from mercato.catalog.schemas import (
    CategoryCreate,
    CategoryMove,
    CategoryNode,
    CategoryRead,
    CategoryReorder,
    CategoryUpdate,
)
from mercato.catalog.service.caching import invalidate_category_tree
from mercato.catalog.service.common import Conflicts, changed, check_slug, temporary_slug, unique_guard
from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.core.i18n import N_

MAX_DEPTH = 8  # levels: a root has depth 0, the deepest category depth 7
TREE_LOCK = 0x6361745F74726565  # "cat_tree": the PostgreSQL advisory lock of tree-shaping writes
SLUG_CONFLICT: Conflicts = {("catalog_category", ("slug",)): SlugTaken}


async def lock_tree(session: AsyncSession) -> None:
    """Serialise writes that compute paths (create, move, delete) until the commit.

    Two concurrent moves could otherwise each pass the cycle check and together make a cycle,
    and a child created under a category being moved would get its old path. SQLite writers are
    serialised already (BEGIN IMMEDIATE); PostgreSQL takes a transaction advisory lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(TREE_LOCK)))


def path_ids(path: str) -> list[int]:
    """The ids of a materialised path, from the root down ("/1/4/9/" -> [1, 4, 9])."""
    return [int(part) for part in path.strip("/").split("/") if part]


def _view(category: CategoryRead) -> dict[str, Any]:
    return category.model_dump(mode="json", exclude={"id", "created_at", "updated_at"})


async def _get_row(
    session: AsyncSession, category_id: int, *, loc: tuple[str | int, ...] | None = None
) -> Category:
    row = await session.get(Category, category_id)
    if row is None:
        fields = (
            [FieldError(loc=loc, code=CategoryNotFound.code, message=N_("No such category."))]
            if loc
            else None
        )
        raise CategoryNotFound(fields=fields)
    return row


async def get_category(session: AsyncSession, *, category_id: int) -> CategoryRead:
    """Raises: CategoryNotFound."""
    return CategoryRead.model_validate(await _get_row(session, category_id))


async def find_category_row(
    session: AsyncSession, category_id: int, *, loc: tuple[str | int, ...]
) -> Category:
    """The category a body refers to (``loc`` names the field in the 404's field error)."""
    return await _get_row(session, category_id, loc=loc)


async def _next_position(session: AsyncSession, parent_id: int | None) -> int:
    sibling = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    last = (await session.execute(select(func.max(Category.position)).where(sibling))).scalar_one()
    return 0 if last is None else last + 1


async def create_category(
    session: AsyncSession, *, data: CategoryCreate, actor: identity.Actor
) -> CategoryRead:
    """Create a category under ``parent_id`` (or as a root).

    Raises:
        CategoryNotFound (404, with a field error): unknown parent.
        CategoryTooDeep (422), SlugReserved (422), SlugTaken (409).
    """
    await lock_tree(session)
    parent = await _get_row(session, data.parent_id, loc=("body", "parent_id")) if data.parent_id else None
    depth = parent.depth + 1 if parent else 0
    if depth >= MAX_DEPTH:
        raise CategoryTooDeep(max_depth=MAX_DEPTH)
    if data.slug is not None:
        check_slug(data.slug, prefix="c", own_id=None, loc=("body", "slug"))
    now = clock.now()
    row = Category(
        parent_id=parent.id if parent else None,
        name=data.name,
        name_en=data.name_en,
        slug=data.slug or temporary_slug(),
        position=data.position,
        path="/",
        depth=depth,
        is_high_risk=data.is_high_risk,
        is_active=data.is_active,
        seo_title=data.seo_title,
        seo_description=data.seo_description,
        created_at=now,
        updated_at=now,
    )
    async with unique_guard(session, SLUG_CONFLICT):
        session.add(row)
    row.path = f"{parent.path if parent else '/'}{row.id}/"
    if data.slug is None:
        row.slug = f"c-{row.id}"
    await session.flush()
    category = CategoryRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="category.create",
        object_type="category",
        object_id=str(row.id),
        after=_view(category),
    )
    await invalidate_category_tree(session)
    return category


async def update_category(
    session: AsyncSession, *, category_id: int, data: CategoryUpdate, actor: identity.Actor
) -> CategoryRead:
    """Change a category's names, slug, SEO fields, risk flag or visibility.

    Raises:
        CategoryNotFound, SlugReserved (422), SlugTaken (409).
    """
    row = await _get_row(session, category_id)
    before = CategoryRead.model_validate(row)
    if data.slug is not None:
        check_slug(data.slug, prefix="c", own_id=row.id, loc=("body", "slug"))
    async with unique_guard(session, SLUG_CONFLICT):
        for field in ("name", "name_en", "slug", "is_high_risk", "is_active", "seo_title", "seo_description"):
            value = getattr(data, field)
            if value is not None:
                setattr(row, field, value)
        row.updated_at = clock.now()
    after = CategoryRead.model_validate(row)
    old, new = changed(_view(before), _view(after))
    if new:
        await identity.record_audit(
            session,
            actor=actor,
            action="category.update",
            object_type="category",
            object_id=str(category_id),
            before=old,
            after=new,
        )
        await invalidate_category_tree(session)
    return after


async def move_category(
    session: AsyncSession, *, category_id: int, data: CategoryMove, actor: identity.Actor
) -> CategoryRead:
    """Re-parent a category; its whole subtree follows in one UPDATE of ``path`` and ``depth``.

    Raises:
        CategoryNotFound (the category, or the new parent with a field error),
        CategoryCycle (422): the new parent is the category itself or one of its descendants.
        CategoryTooDeep (422): the subtree would end up deeper than ``MAX_DEPTH``.
    """
    await lock_tree(session)
    row = await _get_row(session, category_id)
    parent = await _get_row(session, data.parent_id, loc=("body", "parent_id")) if data.parent_id else None
    if parent is not None and parent.path.startswith(row.path):
        raise CategoryCycle(
            fields=[
                FieldError(
                    loc=("body", "parent_id"),
                    code=CategoryCycle.code,
                    message=N_("Choose a category outside the one you move."),
                )
            ]
        )
    old_path, old_depth = row.path, row.depth
    new_path = f"{parent.path if parent else '/'}{row.id}/"
    new_depth = parent.depth + 1 if parent else 0
    deepest = (
        await session.execute(select(func.max(Category.depth)).where(Category.path.startswith(old_path)))
    ).scalar_one()
    if deepest - old_depth + new_depth >= MAX_DEPTH:
        raise CategoryTooDeep(max_depth=MAX_DEPTH)
    before = CategoryRead.model_validate(row)
    position = data.position if data.position is not None else await _next_position(session, data.parent_id)
    now = clock.now()
    if new_path != old_path:
        # The subtree (the category included) shares the prefix old_path: swap it for new_path.
        await session.execute(
            update(Category)
            .where(Category.path.startswith(old_path))
            .values(
                path=literal(new_path) + func.substr(Category.path, len(old_path) + 1),
                depth=Category.depth + (new_depth - old_depth),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(Category)
        .where(Category.id == category_id)
        .values(parent_id=parent.id if parent else None, position=position, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    after = await get_category(session, category_id=category_id)
    await identity.record_audit(
        session,
        actor=actor,
        action="category.move",
        object_type="category",
        object_id=str(category_id),
        before={"parent_id": before.parent_id, "path": before.path, "position": before.position},
        after={"parent_id": after.parent_id, "path": after.path, "position": after.position},
    )
    await invalidate_category_tree(session)
    return after


async def reorder_categories(
    session: AsyncSession, *, data: CategoryReorder, actor: identity.Actor
) -> list[CategoryRead]:
    """Set the order of a parent's children: positions 0, 1, 2, … in the order given.

    Raises:
        CategoryNotFound (unknown parent), CategoryOrderMismatch (422): the ids are not exactly
        the parent's children, each once.
    """
    if data.parent_id is not None:
        await _get_row(session, data.parent_id, loc=("body", "parent_id"))
    sibling = Category.parent_id.is_(None) if data.parent_id is None else Category.parent_id == data.parent_id
    rows = {row.id: row for row in (await session.execute(select(Category).where(sibling))).scalars()}
    if len(data.category_ids) != len(set(data.category_ids)) or set(data.category_ids) != set(rows):
        raise CategoryOrderMismatch()
    before = {str(row.id): row.position for row in rows.values()}
    now = clock.now()
    for position, category_id in enumerate(data.category_ids):
        if rows[category_id].position != position:
            rows[category_id].position = position
            rows[category_id].updated_at = now
    await session.flush()
    after = {str(category_id): position for position, category_id in enumerate(data.category_ids)}
    if after != before:
        await identity.record_audit(
            session,
            actor=actor,
            action="category.reorder",
            object_type="category",
            object_id=str(data.parent_id or ""),
            before=before,
            after=after,
        )
        await invalidate_category_tree(session)
    return [CategoryRead.model_validate(rows[category_id]) for category_id in data.category_ids]


async def delete_category(session: AsyncSession, *, category_id: int, actor: identity.Actor) -> None:
    """Delete a category that has no subcategories and no products (of any status).

    Raises:
        CategoryNotFound, CategoryInUse (409).
    """
    await lock_tree(session)
    row = await _get_row(session, category_id)
    in_use = (
        await session.execute(
            select(
                exists().where(Category.parent_id == category_id)
                | exists().where(Product.category_id == category_id)
            )
        )
    ).scalar_one()
    if in_use:
        raise CategoryInUse()
    before = _view(CategoryRead.model_validate(row))
    try:
        async with session.begin_nested():
            await session.delete(row)
            await session.flush()
    except IntegrityError as exc:  # a product or child added concurrently (PostgreSQL)
        raise CategoryInUse() from exc
    await identity.record_audit(
        session,
        actor=actor,
        action="category.delete",
        object_type="category",
        object_id=str(category_id),
        before=before,
    )
    await invalidate_category_tree(session)


def build_tree(rows: Sequence[Category], *, active_only: bool = False) -> list[CategoryNode]:
    """Nest rows into trees ordered by position then name; with ``active_only``, an inactive
    category hides its whole subtree."""
    ordered = sorted(rows, key=lambda row: (row.depth, row.position, row.name, row.id))
    nodes: dict[int, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for row in ordered:
        if active_only and not row.is_active:
            continue
        node = CategoryNode.model_validate(row)
        if row.parent_id is None:
            roots.append(node)
        elif row.parent_id in nodes:
            nodes[row.parent_id].children.append(node)
        else:
            continue  # its parent is hidden
        nodes[row.id] = node
    return roots


async def get_category_tree(session: AsyncSession) -> list[CategoryNode]:
    """The whole tree for the console, inactive categories included."""
    rows = (await session.execute(select(Category))).scalars().all()
    return build_tree(rows)


async def high_risk_path(session: AsyncSession, path: str) -> bool:
    """Whether any category on ``path`` (the category or an ancestor) is marked high-risk."""
    ids = path_ids(path)
    if not ids:
        return False
    found = (
        await session.execute(select(exists().where(Category.id.in_(ids), Category.is_high_risk.is_(True))))
    ).scalar_one()
    return bool(found)
