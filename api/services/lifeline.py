"""Processes the service starts die with it: kill -9 of the service leaves no solver or checker running.

Linux's ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the process when its parent dies. SIGKILL, not a
Python handler, because a process inside a long OR-Tools call would run a handler only when the call returns.
Through ctypes: a few lines, where a package (python-prctl) would be one more compiled dependency for one call.
Elsewhere (no prctl) it does nothing. The kernel sends the signal when the parent *thread* ends, so a pool's
process, started by whichever thread submitted first, watches its parent process instead (``watch_parent``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time

# linux/prctl.h
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def watch_parent() -> None:
    """For a pool process: a thread that ends the process once its parent process is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
