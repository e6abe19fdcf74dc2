"""Every integer a route reads from its path or query string is bounded (ids to BIGINT), so a huge
number is a 422 and never reaches the database; new routes cannot forget it."""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types as at
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.fields import FieldInfo


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _constraints(metadata: Any) -> list[Any]:
    flat: list[Any] = []
    for item in metadata:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return flat


def _unbounded_ints(annotation: Any, metadata: tuple[Any, ...] = ()) -> int:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _unbounded_ints(base, (*metadata, *_constraints(extra)))
    if annotation is int:
        low = any(isinstance(m, at.Ge | at.Gt) for m in metadata)
        high = any(isinstance(m, at.Le | at.Lt) for m in metadata)
        return 0 if low and high else 1
    if origin is Union or origin is types.UnionType:
        return sum(_unbounded_ints(arg, metadata) for arg in get_args(annotation))
    return sum(_unbounded_ints(arg) for arg in get_args(annotation))


def test_every_integer_path_and_query_parameter_is_bounded(app: FastAPI) -> None:
    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    params = [
        (route.path, param)
        for route in routes
        if isinstance(route, APIRoute)
        for dependant in _dependants(route.dependant)
        for param in (*dependant.path_params, *dependant.query_params)
    ]

    unbounded = [
        f"{path} {param.name}"
        for path, param in params
        if _unbounded_ints(param.field_info.annotation, tuple(_constraints(param.field_info.metadata)))
    ]

    assert len(params) > 100  # the walk reached the routers' parameters
    assert unbounded == []
