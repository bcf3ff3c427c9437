"""`python -m pixcrawler_desktop.cli …`: the same as the `pixcrawler` command."""

import sys

from pixcrawler_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
