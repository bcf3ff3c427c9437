"""The `pixcrawler` command: crawl keywords into a dataset folder, and drive a PixCrawler
server's jobs from a terminal or a script.

It uses the same API client as the desktop app (`pixcrawler_desktop.client`), and for `crawl`
the same embedded backend (`pixcrawler_desktop.local`), so both front ends behave alike.
"""

from pixcrawler_desktop.cli.app import main

__all__ = ["main"]
