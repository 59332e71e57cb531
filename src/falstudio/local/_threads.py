"""Engine threads that yield the CPU: rendering runs at a lower priority than request handling (and, when the
server is embedded, than the notebook's own code), so a busy machine delays pictures, not answers.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

NICENESS = 10  # added to the nice value of a background thread


def lower_priority() -> None:
    """Lower the calling thread's CPU priority (an executor ``initializer``).

    Linux only: there a thread has its own nice value; elsewhere setpriority would act on the whole process.
    """
    if sys.platform == "linux":
        thread = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + NICENESS))
        except OSError:  # a sandbox may refuse; running at the normal priority is still correct
            pass


def background_pool(workers: int, name: str) -> ThreadPoolExecutor:
    """A thread pool whose threads run at a lower CPU priority."""
    return ThreadPoolExecutor(workers, thread_name_prefix=name, initializer=lower_priority)
