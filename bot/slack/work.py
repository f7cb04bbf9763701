"""Worker pools of Shipmate's own, so long Docker work never holds the threads that must ack Slack.

Quick commands and slow ones (pulls, foreground runs, stops) get separate bounded pools: five slow pulls
cannot delay a `/ps`. Jobs are tracked so a shutdown can let them finish, or tell their users they were cut off.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

log = logging.getLogger(__name__)


class ShuttingDown(Exception):
    """New work arrived after shutdown began."""


class Interrupted(Exception):
    """The work finished after its user had been told it was cut off: its result must not be a second answer."""


class Job:
    def __init__(self, work: Callable[[], object], interrupted: Callable[[], None]) -> None:
        self.work = work
        self.interrupted = interrupted  # tells the user the work was cut off by a shutdown
        self._settled = False
        self._lock = threading.Lock()

    def settle(self) -> bool:
        """Claim the job's one reply (its result, or the interrupted notice): True for the first claim only."""
        with self._lock:
            settled, self._settled = self._settled, True
            return not settled


class WorkPools:
    def __init__(self, quick_workers: int, slow_workers: int) -> None:
        self._quick = ThreadPoolExecutor(max_workers=quick_workers, thread_name_prefix="shipmate-quick")
        self._slow = ThreadPoolExecutor(max_workers=slow_workers, thread_name_prefix="shipmate-slow")
        self._jobs: set[Job] = set()
        self._delivering = 0  # answers of finished jobs still on their way to Slack
        self._lock = threading.Lock()
        self._closing = False

    def submit(self, job: Job, slow: bool) -> Future:
        with self._lock:
            if self._closing:
                raise ShuttingDown
            self._jobs.add(job)
        return (self._slow if slow else self._quick).submit(self._run, job)

    def _run(self, job: Job) -> object:
        try:
            result = job.work()
        except Exception:
            log.exception("background job failed")
            raise
        finally:
            with self._lock:
                self._jobs.discard(job)
        if not job.settle():
            raise Interrupted
        return result

    @contextmanager
    def delivering(self) -> Iterator[None]:
        """Hold a shutdown back while a finished job's answer is being posted to Slack."""
        with self._lock:
            self._delivering += 1
        try:
            yield
        finally:
            with self._lock:
                self._delivering -= 1

    @property
    def in_flight(self) -> int:
        """Jobs running or queued now."""
        with self._lock:
            return len(self._jobs)

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._jobs and not self._delivering

    def shutdown(self, grace_seconds: float) -> int:
        """Stop taking work, wait up to `grace_seconds`, then send "interrupted" for what is left. Returns that count."""
        with self._lock:
            self._closing = True
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and not self.idle:
            time.sleep(0.05)
        with self._lock:
            left = list(self._jobs)
        left = [job for job in left if job.settle()]  # one finishing right now sends its own result instead
        for job in left:
            try:
                job.interrupted()
            except Exception:
                log.exception("could not send the interrupted notice")
        self._quick.shutdown(wait=False, cancel_futures=True)
        self._slow.shutdown(wait=False, cancel_futures=True)
        return len(left)
