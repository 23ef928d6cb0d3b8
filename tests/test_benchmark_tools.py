"""The measuring tools of `make bench` and `make loadtest` measure what they claim."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

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


def test_the_disk_probe_reports_its_waits_and_leaves_nothing_behind(tmp_path):
    waits = infra.fdatasync_latency(tmp_path, seconds=0.3)
    assert waits["samples"] > 5
    assert 0 < waits["p50"] <= waits["p99"] <= waits["max"]
    assert list(tmp_path.iterdir()) == []


def test_the_load_generator_resends_once_when_the_server_closed_a_kept_alive_connection():
    """Like a browser: a request on a reused connection that the server closed unanswered
    goes out once more on a new connection, and is counted."""
    import asyncio

    from benchmarks import loadtest

    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
    connections = []

    async def serve(reader, writer):
        connections.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        if len(connections) == 1:
            # The first connection: the next request on it is read and dropped unanswered.
            await reader.readuntil(b"\r\n\r\n")
        else:
            await reader.read()  # the client's new connection stays open until it is done
        writer.close()

    async def play():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        recorder = loadtest.Recorder(budget=10)
        async with loadtest.new_client(f"http://127.0.0.1:{port}", "lt-test") as client:
            first = await recorder.request(client, "x", "GET", "/a")
            second = await recorder.request(client, "x", "POST", "/b", data={"choice": "Fe"})
        server.close()
        return recorder, first, second

    # A thread of its own: the browser tests' Playwright keeps an event loop running
    # in the main thread for the whole session.
    with ThreadPoolExecutor(max_workers=1) as executor:
        recorder, first, second = executor.submit(asyncio.run, play()).result(timeout=30)
    assert first.status_code == second.status_code == 200
    assert recorder.resent == 1 and recorder.transport_errors == 0
    assert len(connections) == 2
