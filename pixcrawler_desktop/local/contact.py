"""The contact our User-Agent carries (PIXCRAWLER_CONTACT), for the app and the CLI: the
server's own check of it, so both say the same as the server would."""

from __future__ import annotations

from worker.identity import contact_problem

CONTACT_VARIABLE = "PIXCRAWLER_CONTACT"

__all__ = ["CONTACT_VARIABLE", "contact_problem"]
