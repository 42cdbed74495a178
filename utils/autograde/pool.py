"""The worker processes of a class run, and the loop that hands them submissions and survives their crashes."""

import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .outcome import Outcome
from .worker import grade_one, init_worker


class Pool:
    """Worker processes that grade submissions; a crashed pool is replaced, one of `size` or of one."""

    def __init__(self, size: int, initargs: tuple):
        self.size, self.initargs = size, initargs
        self.context = multiprocessing.get_context("spawn")
        self.counter = self.context.Value("i", 0)
        self.executors: dict[int, ProcessPoolExecutor] = {}

    def get(self, size: int) -> ProcessPoolExecutor:
        if size not in self.executors:
            self.executors[size] = ProcessPoolExecutor(size, mp_context=self.context, initializer=init_worker,
                                                       initargs=(self.counter, *self.initargs))
        return self.executors[size]

    def discard(self, size: int, wait: bool = False) -> None:
        executor = self.executors.pop(size, None)
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)

    def kill(self, size: int) -> None:
        """Stop the workers of one executor now (their futures fail with BrokenProcessPool)."""
        if size in self.executors:
            _stop_workers(self.executors[size])

    def shutdown(self, kill: bool = False) -> None:
        for size in list(self.executors):
            if kill:
                _stop_workers(self.executors[size])
            self.discard(size, wait=not kill)


#: Why a submission whose worker died while it was graded alone scores zero (local pool and cluster alike).
CRASHED_ALONE = ("the grading worker crashed while grading this submission alone (it ran out of memory or was "
                 "killed): nothing of it could be graded")


def over_time(seconds: float) -> str:
    """Why a submission stopped for taking longer than c.Grader.submission_seconds scores zero."""
    return (f"grading this submission took longer than {seconds:g} s, the most one submission may take "
            f"(c.Grader.submission_seconds): it was stopped")


def grade_all(pool: Pool, todo: list, task_args: tuple, seconds: float, attempts: int, record) -> None:
    """Grade `todo` ((assignment, student, fingerprint) items), at most pool.size at a time; `record(outcome)`
    receives each final outcome as it arrives, and `record(outcome, graded=False)` each submission that could
    not be graded at all.

    When a worker dies (killed, out of memory) every submission in flight fails with BrokenProcessPool,
    and nobody can tell which one killed it. Those submissions become suspects and are graded again one
    at a time, alone in a pool of one worker: a suspect that crashes that pool too is the culprit, and
    only it is recorded as failed. A submission still in a worker after `seconds` is stopped with its
    worker (its classmates in flight become suspects) and recorded as failed. A kernel that never started
    is the machine's fault: tried again up to `attempts` times, then passed on as not graded (neither a
    zero nor journaled, so a rerun grades it).
    """
    queue = list(todo)
    suspects: list[tuple[str, str, str]] = []
    tries: dict[tuple[str, str], int] = {}
    in_flight: dict = {}  # future -> (item, when it was handed to a worker)
    overdue: set[tuple[str, str, str]] = set()

    def settle(item, outcome: Outcome) -> None:
        """Pass an outcome on (or retry a machine failure)."""
        if outcome.infrastructure:
            tries[item[:2]] = tries.get(item[:2], 0) + 1
            if tries[item[:2]] < attempts:
                queue.append(item)
                return
            record(outcome, graded=False)
        else:
            record(outcome)

    def lost(item, alone: bool) -> None:
        """A submission whose worker died: over time, the culprit, or (with classmates in flight) a suspect."""
        if item in overdue:
            settle(item, Outcome(*item, failure=over_time(seconds)))
        elif alone:
            settle(item, Outcome(*item, failure=CRASHED_ALONE))
        else:
            suspects.append(item)  # maybe it, maybe a classmate in flight: find out alone

    try:
        while queue or suspects or in_flight:
            alone = bool(suspects) and not in_flight
            size = 1 if alone else pool.size
            if not alone and size != 1:
                pool.discard(1, wait=True)  # the suspects are done: no idle worker kept for them
            executor = pool.get(size)
            waiting = suspects if alone else queue
            while waiting and len(in_flight) < size:
                item = waiting.pop(0)
                try:
                    # With nothing left to hand out, the worker starts no kernel ahead for a next submission.
                    future = executor.submit(grade_one, *item, *task_args, more_to_come=bool(queue or suspects))
                    in_flight[future] = (item, time.monotonic())
                except BrokenProcessPool:  # a worker died since the last look: this one never reached it
                    waiting.insert(0, item)
                    if not in_flight:
                        pool.discard(size)
                    break  # what is in flight fails as broken below, and the pool is replaced
            if not in_flight:
                continue
            deadline = min(started for _, started in in_flight.values()) + seconds
            done, _ = wait(in_flight, timeout=max(0.0, deadline - time.monotonic()) + 0.1,
                           return_when=FIRST_COMPLETED)
            if not done:  # someone is over time: stop the workers; every future in flight then fails as broken
                now = time.monotonic()
                overdue |= {item for item, started in in_flight.values()
                            if now - started >= seconds}
                pool.kill(size)
                done, _ = wait(in_flight)
            broken = False
            for future in done:
                item, _ = in_flight.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken = True
                    lost(item, alone)
                    continue
                settle(item, outcome)
            if broken:
                # The other futures of a broken pool fail the same way.
                for future in list(in_flight):
                    item, _ = in_flight.pop(future)
                    lost(item, alone)
                pool.discard(size)
    except KeyboardInterrupt:
        for future in in_flight:
            future.cancel()
        pool.shutdown(kill=True)
        raise


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        if process.is_alive():
            process.kill()
