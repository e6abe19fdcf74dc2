"""The category tree: create under a parent, move a subtree, refuse cycles, delete only when empty."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog
from mercato.catalog.models import Category
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, audit_actions, count, make_category, make_product


async def paths() -> dict[str, tuple[str, int]]:
    async with uow(write=False) as s:
        rows = (await s.execute(select(Category).order_by(Category.id))).scalars()
        return {row.name: (row.path, row.depth) for row in rows}


async def test_a_child_gets_its_parents_path_and_a_default_slug(session: AsyncSession) -> None:
    root = await make_category("服装")

    child = await catalog.create_category(
        session, data=catalog.CategoryCreate(name="男装", parent_id=root.id), actor=SYSTEM
    )

    assert (child.path, child.depth, child.parent_id) == (f"/{root.id}/{child.id}/", 1, root.id)
    assert child.slug == f"c-{child.id}"


async def test_moving_a_category_moves_its_whole_subtree_in_one_update() -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    shirts = await make_category("衬衫", parent_id=men.id)
    oxford = await make_category("牛津纺", parent_id=shirts.id)
    sale = await make_category("特卖")

    async with uow() as session:
        moved = await catalog.move_category(
            session, category_id=men.id, data=catalog.CategoryMove(parent_id=sale.id), actor=SYSTEM
        )

    assert (moved.parent_id, moved.path, moved.depth) == (sale.id, f"/{sale.id}/{men.id}/", 1)
    assert await paths() == {
        "服装": (f"/{clothing.id}/", 0),
        "男装": (f"/{sale.id}/{men.id}/", 1),
        "衬衫": (f"/{sale.id}/{men.id}/{shirts.id}/", 2),
        "牛津纺": (f"/{sale.id}/{men.id}/{shirts.id}/{oxford.id}/", 3),
        "特卖": (f"/{sale.id}/", 0),
    }
    assert (await audit_actions())[-1] == "category.move"


async def test_moving_to_the_root_makes_the_subtree_shallower() -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    shirts = await make_category("衬衫", parent_id=men.id)

    async with uow() as session:
        await catalog.move_category(
            session, category_id=men.id, data=catalog.CategoryMove(parent_id=None), actor=SYSTEM
        )

    assert (await paths())["衬衫"] == (f"/{men.id}/{shirts.id}/", 1)
    assert (await paths())["男装"] == (f"/{men.id}/", 0)


@pytest.mark.parametrize("_case", ["itself", "its child", "its grandchild"])
async def test_refuses_to_move_a_category_under_itself_or_a_descendant(_case: str) -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    shirts = await make_category("衬衫", parent_id=men.id)
    target = {"itself": clothing, "its child": men, "its grandchild": shirts}[_case]
    before = (await paths(), await audit_actions())

    with pytest.raises(catalog.CategoryCycle) as refused:
        async with uow() as session:
            await catalog.move_category(
                session, category_id=clothing.id, data=catalog.CategoryMove(parent_id=target.id), actor=SYSTEM
            )

    assert refused.value.code == "catalog.category_cycle"
    assert (await paths(), await audit_actions()) == before


async def test_refuses_a_move_that_would_nest_too_deep() -> None:
    chain = [await make_category("L0")]
    for depth in range(1, 8):  # depths 0..7: the deepest allowed
        chain.append(await make_category(f"L{depth}", parent_id=chain[-1].id))
    other = await make_category("other", parent_id=(await make_category("top")).id)  # depth 1
    before = await paths()

    with pytest.raises(catalog.CategoryTooDeep):
        async with uow() as session:
            await catalog.move_category(
                session, category_id=chain[1].id, data=catalog.CategoryMove(parent_id=other.id), actor=SYSTEM
            )
    with pytest.raises(catalog.CategoryTooDeep):
        await make_category("too deep", parent_id=chain[-1].id)

    assert await paths() == before


async def test_refuses_an_unknown_parent_with_a_field_error_and_creates_nothing() -> None:
    with pytest.raises(catalog.CategoryNotFound) as refused:
        await make_category("孤儿", parent_id=999)

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "parent_id"), "catalog.category_not_found")
    ]
    assert await count(Category) == 0


async def test_slugs_are_unique_and_id_defaults_are_reserved() -> None:
    await make_category("鞋", slug="shoes")

    with pytest.raises(catalog.SlugTaken):
        await make_category("鞋子", slug="shoes")
    with pytest.raises(catalog.SlugReserved):
        await make_category("包", slug="c-12345")

    assert await count(Category) == 1


async def test_a_category_with_children_or_products_cannot_be_deleted() -> None:
    clothing = await make_category("服装")
    await make_category("男装", parent_id=clothing.id)
    shoes = await make_category("鞋")
    await make_product(category_id=shoes.id)
    empty = await make_category("空")

    for category in (clothing, shoes):
        with pytest.raises(catalog.CategoryInUse):
            async with uow() as session:
                await catalog.delete_category(session, category_id=category.id, actor=SYSTEM)
    async with uow() as session:
        await catalog.delete_category(session, category_id=empty.id, actor=SYSTEM)

    assert sorted(await paths()) == ["服装", "男装", "鞋"]
    assert (await audit_actions()).count("category.delete") == 1


async def test_reorder_sets_positions_and_the_tree_follows_them() -> None:
    clothing = await make_category("服装")
    a = await make_category("A", parent_id=clothing.id)
    b = await make_category("B", parent_id=clothing.id)
    c = await make_category("C", parent_id=clothing.id)

    async with uow() as session:
        await catalog.reorder_categories(
            session,
            data=catalog.CategoryReorder(parent_id=clothing.id, category_ids=[c.id, a.id, b.id]),
            actor=SYSTEM,
        )
    async with uow(write=False) as session:
        tree = await catalog.get_category_tree(session)

    assert [(node.name, [child.name for child in node.children]) for node in tree] == [
        ("服装", ["C", "A", "B"])
    ]
    assert [child.position for child in tree[0].children] == [0, 1, 2]


async def test_reorder_refuses_a_list_that_is_not_exactly_the_children() -> None:
    clothing = await make_category("服装")
    a = await make_category("A", parent_id=clothing.id)
    await make_category("B", parent_id=clothing.id)

    with pytest.raises(catalog.CategoryOrderMismatch):
        async with uow() as session:
            await catalog.reorder_categories(
                session,
                data=catalog.CategoryReorder(parent_id=clothing.id, category_ids=[a.id, a.id]),
                actor=SYSTEM,
            )


async def test_the_tree_orders_siblings_by_position_then_name() -> None:
    await make_category("乙", position=1)
    await make_category("B", position=0)
    await make_category("A", position=0)

    async with uow(write=False) as session:
        tree = await catalog.get_category_tree(session)

    assert [node.name for node in tree] == ["A", "B", "乙"]


async def test_updates_are_audited_with_only_what_changed(session: AsyncSession) -> None:
    category = await make_category("服装", slug="clothing")

    updated = await catalog.update_category(
        session,
        category_id=category.id,
        data=catalog.CategoryUpdate(name="服饰", is_high_risk=True, slug="clothing"),
        actor=SYSTEM,
    )

    assert (updated.name, updated.is_high_risk, updated.slug) == ("服饰", True, "clothing")
    assert await audit_actions() == ["category.create"]  # the session has not committed yet
    await session.commit()
    assert await audit_actions() == ["category.create", "category.update"]


async def _move(category_id: int, parent_id: int) -> str:
    try:
        async with uow() as session:
            await catalog.move_category(
                session, category_id=category_id, data=catalog.CategoryMove(parent_id=parent_id), actor=SYSTEM
            )
    except catalog.CategoryCycle as exc:
        return exc.code
    return "moved"


async def test_two_concurrent_moves_cannot_make_a_cycle() -> None:
    a = await make_category("A")
    b = await make_category("B")

    results = await asyncio.gather(_move(a.id, b.id), _move(b.id, a.id))

    assert sorted(results) == ["catalog.category_cycle", "moved"]
    tree = await paths()
    assert sorted(depth for _path, depth in tree.values()) == [0, 1]


async def _create(slug: str) -> str:
    try:
        await make_category(slug=slug)
    except catalog.SlugTaken as exc:
        return exc.code
    return "created"


async def test_concurrent_creations_with_one_slug_leave_exactly_one() -> None:
    results = await asyncio.gather(*(_create("shoes") for _ in range(4)))

    assert sorted(results) == ["catalog.slug_taken"] * 3 + ["created"]
    assert await count(Category) == 1
