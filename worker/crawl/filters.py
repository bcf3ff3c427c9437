"""Search filters a job can ask for, in one vocabulary every engine maps onto its own parameters.

Each engine declares which values it can apply (``Engine.supports``); a requested value it cannot
apply is reported in the chunk's warnings instead of being dropped silently. The minimum size is
the exception: the chunk runner enforces it for every engine (from the sizes engines report and
from the downloaded image), so engines only use it to narrow what they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

LICENSES = ("any", "commercial", "modify", "commercial_modify", "public_domain")
IMAGE_TYPES = ("any", "photo", "clipart", "lineart", "animated", "transparent")
COLORS = (
    "any", "color", "grayscale", "red", "orange", "yellow", "green", "teal", "blue", "purple",
    "pink", "white", "gray", "black", "brown",
)  # fmt: skip

# Licence values a source satisfies when everything it hosts allows commercial use and changes
# (Unsplash, Pexels, Pixabay, Commons); "public_domain" still needs a per-image check.
FREE_TO_USE_AND_CHANGE = frozenset({"commercial", "modify", "commercial_modify"})

# What a user reads for each filter value in a warning ("cannot filter by licence ...").
FILTER_LABELS = {
    "safe_search": "safe search",
    "license": "licence",
    "image_type": "image type",
    "color": "colour",
}


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What a job asks engines to narrow their results to; the defaults ask for nothing but
    safe search."""

    safe_search: bool = True
    min_width: int = 0
    min_height: int = 0
    license: str = "any"
    image_type: str = "any"
    color: str = "any"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("license", LICENSES),
            ("image_type", IMAGE_TYPES),
            ("color", COLORS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        if self.min_width < 0 or self.min_height < 0:
            raise ValueError("min_width and min_height must not be negative")

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> SearchFilters:
        """Filters from a job's stored options (missing keys take the defaults)."""
        stored = dict((options or {}).get("filters") or {})
        known = {k: v for k, v in stored.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def requested(self) -> dict[str, object]:
        """The engine-side filters this asks for (name -> value), leaving out the 'any's.

        Safe search counts only when on: turning it off never needs engine support.
        """
        wanted: dict[str, object] = {}
        if self.safe_search:
            wanted["safe_search"] = True
        for name in ("license", "image_type", "color"):
            value = getattr(self, name)
            if value != "any":
                wanted[name] = value
        return wanted

    def too_small(self, width: int | None, height: int | None) -> bool:
        """True when a known size is below the minimum (unknown sizes pass until downloaded)."""
        return bool(
            (width is not None and width < self.min_width)
            or (height is not None and height < self.min_height)
        )


def describe(name: str, value: object) -> str:
    """``licence 'public_domain'`` / ``safe search``: a filter as a warning names it."""
    label = FILTER_LABELS.get(name, name)
    return label if value is True else f"{label} {value!r}"
