"""The process's peak memory, as Lambda counts it (pure standard library)."""

from __future__ import annotations

import resource
import sys


def peak_memory_mb() -> int:
    """The peak resident memory of this process so far, in MB as Lambda counts them (MiB).

    A warm process keeps its peak from invocation to invocation, so memory that a file leaves
    behind shows as a climb from one file's log line and record to the next. Linux's VmHWM:
    ru_maxrss would start at the peak of whichever process started this one (it survives
    fork and exec), LocalStack's hundreds of MB on the local stack.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024  # KiB
    except OSError:  # not Linux
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (1024 * 1024 if sys.platform == "darwin" else 1024)
