"""The strict pydantic base class every neurosim config model derives from."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from neurosim.config.bounds import Range, has_number, range_for

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """Immutable model that rejects unknown keys, validates defaults too, and keeps every
    number inside its field's range (:mod:`neurosim.config.bounds`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
    field_ranges: ClassVar[dict[str, Range]] = {}
    """Ranges of this class's fields that the shared tables of `bounds` do not cover."""

    @classmethod
    def range_of(cls, name: str) -> Range | None:
        """The accepted range of field `name` (None for a field that holds no number)."""
        return cls.field_ranges.get(name) or range_for(cls.__name__, name)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, info in cls.model_fields.items():
            if has_number(info.annotation) and cls.range_of(name) is None:
                raise TypeError(
                    f"{cls.__name__}.{name} is numeric but has no accepted range: end its "
                    "name with a unit suffix, or add it to neurosim/config/bounds.py or to "
                    "the class's field_ranges"
                )

    @field_validator("*", mode="after")
    @classmethod
    def _within_range(cls, value: Any, info: ValidationInfo) -> Any:
        bound = cls.range_of(info.field_name or "")
        if bound is not None:
            bound.check(value)
        return value
