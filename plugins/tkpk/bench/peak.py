"""Run one command and report its wall time and peak RSS (wait4), as one JSON line. Used by the bench harness so
every measured run has its own memory figure (ru_maxrss of the child, which covers the descendants it waited for)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time


def main() -> int:
    argv = sys.argv[sys.argv.index("--") + 1:]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.stderr.write(stderr[-4000:])
        return proc.returncode
    tail = "\n".join(stdout.strip().splitlines()[-3:])
    print(json.dumps({"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "stdout_tail": tail}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
