"""`python -m pixcrawler_desktop [gui|cli|api|worker] ...`: one entry for every role, so the
frozen app can re-run itself as the API or the worker. With no role it opens the app."""

from __future__ import annotations

import sys

ROLES = ("gui", "cli", "api", "worker")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    role = argv.pop(0) if argv and argv[0] in ROLES else "gui"
    if argv and role == "gui" and not argv[0].startswith("-"):
        print(f"usage: python -m pixcrawler_desktop [{'|'.join(ROLES)}] [options]",
              file=sys.stderr)
        return 2
    if role == "api":
        from worker.api.serve import main as run
    elif role == "worker":
        from worker.worker_main import main as run
    elif role == "cli":
        from pixcrawler_desktop.cli import main as run
    else:
        from pixcrawler_desktop.app import main as run
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
