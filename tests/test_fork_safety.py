"""``ecgseg.fork_safety``: a fork while another thread writes a log record does not leave
the child waiting forever on the record's stream lock (a LocalCluster worker hung so)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")


class SlowStreamHandler(logging.Handler):
    """A handler whose 'stream' has its own lock (as a file buffer has), held while it
    writes; the writing thread is slow, the main thread is not."""

    def __init__(self):
        super().__init__()
        self.stream_lock = threading.Lock()  # not renewed at fork, like io's buffer lock

    def emit(self, record):
        with self.stream_lock:
            if threading.current_thread() is not threading.main_thread():
                time.sleep(0.5)


def fork_while_another_thread_logs() -> int:
    """Exit status of a child forked while a thread is inside the handler; the child logs
    once (killed after 5 s if it hangs: then -SIGKILL)."""
    log = logging.getLogger("ecg-test-fork-safety")
    handler = SlowStreamHandler()
    log.addHandler(handler)
    log.propagate = False
    try:
        writer = threading.Thread(target=log.warning, args=("from a thread",))
        writer.start()
        time.sleep(0.1)  # the writer is inside emit, holding the stream lock
        pid = os.fork()
        if pid == 0:  # child
            signal.alarm(0)
            log.warning("from the child")
            os._exit(0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                writer.join()
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        writer.join()
        return -signal.SIGKILL
    finally:
        log.removeHandler(handler)


@pytest.mark.skipif(sys.version_info < (3, 9), reason="os.waitstatus_to_exitcode")
def test_a_forked_child_logs_although_a_thread_was_writing_a_record():
    from ecgseg.fork_safety import hold_log_handlers_across_fork

    assert hold_log_handlers_across_fork()
    assert fork_while_another_thread_logs() == 0


def test_without_it_the_child_hangs():
    """The hazard is real: the same fork in a fresh interpreter without the hook hangs."""
    import subprocess

    code = ("import sys; sys.path.insert(0, %r); from test_fork_safety import "
            "fork_while_another_thread_logs as f; print(f())" % os.path.dirname(__file__))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.split()[-1] == str(-signal.SIGKILL), out.stderr
