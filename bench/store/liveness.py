"""Whether the process that claimed a running cell still works on it (hostname, pid, heartbeat)."""

from __future__ import annotations

import os
import socket
import time


def this_process() -> str:
    """The claiming process as the store records it: hostname:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(owner: str | None) -> bool:
    """False only when the owner ran on this host and its process is gone (killed, crashed)."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: only its heartbeat can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


STALE_AFTER = 600.0  # seconds without a heartbeat after which a running cell is abandoned


def run_alive(owner: str | None, heartbeat: float | None, *, now: float | None = None,
              stale_after: float = STALE_AFTER) -> bool:
    """Whether a `running` row's process still works on it (the test claim's takeover uses).

    A row whose heartbeat stopped, or whose process on this host is gone, was interrupted
    (killed, crashed, power loss): its checkpoints let the next `bench run` resume it.
    """
    now = time.time() if now is None else now
    return heartbeat is not None and now - heartbeat < stale_after and process_alive(owner)
