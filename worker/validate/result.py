"""What checking one image yields; kept apart so the duplicate finder needs no check code."""

from __future__ import annotations

from dataclasses import dataclass, field

Metric = float | int | str


@dataclass
class ImageCheck:
    """Per-image result. ``issues`` and ``metrics`` are JSON-ready for the image row;
    ``pixel_hash`` and ``phash`` feed :func:`find_duplicates` across the job."""

    issues: list[str] = field(default_factory=list)
    metrics: dict[str, Metric] = field(default_factory=dict)
    pixel_hash: str | None = None
    """medium/slow: digest of the decoded pixels normalised to 8-bit RGB(A) with their size."""
    phash: int | None = None
    """slow: 64-bit DCT perceptual hash, unsigned (store as text or signed if the column is
    a signed 64-bit integer)."""
    area: int = 0
    """Width × height as displayed (0 if unknown); the largest copy of a group is kept."""

    def add(self, code: str, detail: str | None = None) -> None:
        """Record an issue once; ``detail`` (an exception text) goes to ``metrics["error"]`` so
        a user can see why a file was called corrupt."""
        if code not in self.issues:
            self.issues.append(code)
        if detail and "error" not in self.metrics:
            self.metrics["error"] = detail[:300]
