"""Steps started ahead of their turn, in a forked process beside the steps before them.

The registry (``analysis.tasks.AHEAD``) may name, for a step S, an earlier step A after
which S can start: S reads nothing the steps between A and S write, and they read and
write nothing of S's (``tests/test_pipeline.py`` checks this on the declared inputs and
outputs). The runner then forks S as soon as A is done and goes on with the steps in
between; at S's own turn it waits for S and reports it there, so the printed order, the
stamps, the run log and every output are those of a run in registry order.

The child inherits the parent's imports (the parent imports S's module before forking),
runs S exactly as the runner would, and sends back only strings: the stamp record, or the
failure's message, type, traceback and printed line.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class StepFailedElsewhere(Exception):
    """A step that ran in a forked process failed there; carries what the runner prints."""

    def __init__(self, message: str, error_type: str, trace: str, line: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.trace = trace
        self.line = line


class StepInterruptedElsewhere(KeyboardInterrupt):
    """The forked step was interrupted (Ctrl-C reaches the whole process group)."""


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _child(conn, work: Callable[[], dict[str, Any]],
           describe_failure: Callable[[BaseException], str]) -> None:
    started = time.perf_counter()
    try:
        record = work()
        message: dict[str, Any] = {"status": "ran", "record": record}
    except KeyboardInterrupt:
        message = {"status": "interrupted"}
    except Exception as exc:  # noqa: BLE001  (every failure goes back to the parent by name)
        message = {"status": "failed", "error": str(exc),
                   "error_type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                   "traceback": traceback.format_exc(), "line": describe_failure(exc)}
    message["duration_s"] = round(time.perf_counter() - started, 3)
    conn.send(message)
    conn.close()


@dataclass
class BackgroundStep:
    """One step running in a forked process; :meth:`wait` gives its stamp record."""

    name: str
    reason: str
    process: Any = None
    conn: Any = None
    beside: list[str] = field(default_factory=list)  # the steps run meanwhile
    _message: dict[str, Any] | None = None

    @classmethod
    def start(cls, name: str, reason: str, work: Callable[[], dict[str, Any]],
              describe_failure: Callable[[BaseException], str]) -> BackgroundStep:
        """Fork a process that runs ``work()`` (flush stdout/stderr before calling)."""
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        # Not a daemon: the step may fork its own workers (resampling.run_forked).
        process = context.Process(target=_child, args=(send, work, describe_failure),
                                  name=f"step-{name}", daemon=False)
        process.start()
        send.close()
        return cls(name=name, reason=reason, process=process, conn=receive)

    def wait(self) -> tuple[dict[str, Any], float]:
        """Block until the step is done: (its stamp record, its duration in seconds).

        Raises StepFailedElsewhere or StepInterruptedElsewhere as the step ended.
        """
        message = self._receive()
        if message["status"] == "interrupted":
            raise StepInterruptedElsewhere(f"step '{self.name}' was interrupted")
        if message["status"] == "failed":
            raise StepFailedElsewhere(message["error"], message["error_type"],
                                      message["traceback"], message["line"])
        return message["record"], message["duration_s"]

    def outcome(self) -> dict[str, Any]:
        """The raw message (status, record or error, duration_s), waiting if needed."""
        return self._receive()

    def stop(self) -> None:
        """End the process now (the run was interrupted): its outputs are written one by
        one atomically, and its stamp is already dropped, so the next run redoes it."""
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
        self._close()

    def _receive(self) -> dict[str, Any]:
        if self._message is None:
            try:
                self._message = self.conn.recv()
            except EOFError:  # the process died without a word (killed, out of memory)
                self.process.join()
                self._message = {
                    "status": "failed", "duration_s": 0.0, "traceback": "",
                    "error": f"the process running step '{self.name}' ended without a "
                             f"result (exit code {self.process.exitcode})",
                    "error_type": "analysis.runner.background.StepFailedElsewhere",
                    "line": f"run_all: step '{self.name}' failed: its process ended without "
                            f"a result (exit code {self.process.exitcode})"}
            self._close()
        return self._message

    def _close(self) -> None:
        if self.process is not None:
            self.process.join()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
