"""The folder broker of embedded mode: kombu's filesystem transport, with messages that only
appear once they are whole.

kombu writes a message under its final name and a consumer claims one by moving it away,
without the lock the writer takes; a consumer looking at the wrong moment reads an empty or
half-written file, and the worker dies ("Unrecoverable error: JSONDecodeError"). So here a
message is written under a name no consumer matches and renamed into place once written (a
rename within one folder is atomic). A consumer claims a message by renaming it into the
processed folder beside the queue, not by moving it into the system's temp folder, which is
often another file system (a copy per message).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.transport.virtual import Empty
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: kombu matches a message by what follows the first ".", and glob
        # patterns skip hidden names.
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as fh:
                fh.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue: str) -> dict:
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except OSError:
                continue  # another consumer took it first
            try:
                with open(claimed, "rb") as fh:
                    payload = fh.read()
                if not self.store_processed:
                    os.remove(claimed)
            except OSError as exc:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
            return loads(payload.decode())
        raise Empty()


def queued_task_ids(folder: Path, queue: str) -> set[str]:
    """Task ids of the whole messages waiting for `queue` in `folder` (the broker's "in")."""
    ids = set()
    for path in folder.glob(f"*.{queue}.msg"):  # skips the hidden partial files
        try:
            ids.add(json.loads(path.read_bytes())["headers"]["id"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # taken meanwhile, or not a task message
    return ids


class Transport(filesystem.Transport):
    Channel = Channel
