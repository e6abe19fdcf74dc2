"""Base Pydantic models: inputs refuse unknown fields; outputs are read from attributes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadModel(BaseModel):
    """Base of DTOs returned by services (built from ORM rows, never the rows themselves)."""

    model_config = ConfigDict(from_attributes=True, frozen=True)
