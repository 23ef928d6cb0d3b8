"""The measuring tools of `make bench` and `make loadtest` measure what they claim."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks import infra

# A parent that runs a CPU-bound child to its end, then burns CPU itself until killed.
PARENT = """
import subprocess, sys, time
burn = "import time\\nend = time.process_time() + {child_s}\\nwhile time.process_time() < end: pass"
subprocess.run([sys.executable, "-c", burn], check=True)
print("child done", flush=True)
end = time.process_time() + {parent_s}
while time.process_time() < end:
    pass
print("parent done", flush=True)
time.sleep(60)
"""


def test_a_process_trees_cpu_time_counts_the_children_that_ended():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(child_s=0.6, parent_s=0.3)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline().strip() == "child done"
        assert parent.stdout.readline().strip() == "parent done"
        time.sleep(0.05)
        assert infra.descendants(parent.pid) == []  # the child is gone
        own = infra.cpu_seconds(parent.pid)
        tree = infra.tree_cpu_seconds(parent.pid)
        # The parent's own time misses the child's 0.6 s; the tree's time has both.
        assert own < 0.6
        assert tree >= own + 0.55
    finally:
        parent.kill()
        parent.wait()
