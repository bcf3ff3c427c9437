"""`python -m pixcrawler_desktop ROLE`: one entry for every role, so a frozen build can re-run
itself as the API or the worker."""

from __future__ import annotations

import sys

ROLES = ("api", "worker")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    role = argv.pop(0) if argv else ""
    if role == "api":
        from worker.api.serve import main as run
    elif role == "worker":
        from worker.worker_main import main as run
    else:
        print(f"usage: python -m pixcrawler_desktop {{{'|'.join(ROLES)}}} [options]",
              file=sys.stderr)
        return 2
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
