"""Time limits that nest: the per-file limit of the build and the parse budget of a PDF reader.

One SIGALRM timer serves every active limit: it is armed for the earliest deadline, and the
exception says which deadline expired, so an inner limit never swallows an outer one and leaving an
inner limit re-arms the outer one. Only in the main thread of a process that has SIGALRM (elsewhere
the limits do nothing).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

_deadlines: list[float] = []


class TimeLimitExceeded(BaseException):
    """A BaseException, so that no ``except Exception`` in a parser swallows it."""

    def __init__(self, deadline: float):
        super().__init__(deadline)
        self.deadline = deadline


def _on_alarm(signum, frame) -> None:
    if _deadlines:
        raise TimeLimitExceeded(min(_deadlines))


def _arm() -> None:
    if _deadlines:
        signal.setitimer(signal.ITIMER_REAL, max(min(_deadlines) - time.monotonic(), 0.0005))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def time_limit(seconds: float):
    """Yields this limit's deadline; raises :class:`TimeLimitExceeded` (with the expired deadline)."""
    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield None
        return
    deadline = time.monotonic() + seconds
    outermost = not _deadlines
    previous = signal.signal(signal.SIGALRM, _on_alarm) if outermost else None
    _deadlines.append(deadline)
    _arm()
    try:
        yield deadline
    finally:
        _deadlines.remove(deadline)
        _arm()
        if outermost:
            signal.signal(signal.SIGALRM, previous)
