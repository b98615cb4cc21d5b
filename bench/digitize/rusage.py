"""``python -m bench.digitize.rusage OUT.json -- CMD...``: run CMD, write its CPU time and peak RSS to OUT.json.

Started as a small process so that CMD's RSS high-water mark starts from this wrapper's, not the bench's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    out, separator, *cmd = argv
    if separator != "--" or not cmd:
        raise SystemExit(__doc__)
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, fh)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
