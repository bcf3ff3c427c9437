"""Picking, from a server's GET /engines, an engine that cannot apply some licence filter, so
tests of chunk warnings follow whatever the engines support today."""

from __future__ import annotations

LICENCES = ("public_domain", "commercial_modify", "modify", "commercial")


def licence_gap(engines: list[dict]) -> tuple[str, str, str]:
    """(engine, licence it cannot filter by, the warning its chunks carry for it)."""
    for engine in engines:
        if not engine["available"]:
            continue
        applies = engine["filter_values"].get("license", [])
        for licence in LICENCES:
            if licence not in applies:
                warning = (
                    f"{engine['name']}: cannot filter by licence '{licence}'; results "
                    "are not filtered by it"
                )
                return engine["name"], licence, warning
    raise AssertionError("every available engine filters by every licence")
