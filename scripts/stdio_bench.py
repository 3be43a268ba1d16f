#!/usr/bin/env python3
"""Round-trip cost of the stdio host (README's "stdio host" row).

usage: scripts/stdio_bench.py [PATH-TO-phoenix-net] [N]

piped:     all input written at once (N rednet frames in, each raising an event; N/2 handle writes,
           each transmitting), output read concurrently; reports input lines per second.
lock-step: write one line, read up to its `deadline` line, N/5 times each for write->transmit and
           frame->event (each frame is then read off the handle, so the next one raises its event
           again: two round trips per frame); reports round trips per second.
"""
import json
import subprocess
import sys
import threading
import time

exe = sys.argv[1] if len(sys.argv) > 1 else "target/release/phoenix-net"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 50000


def start():
    p = subprocess.Popen([exe, "host", "--id", "1", "--modem", "/top", "--no-tcp", "--seed", "1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1 << 16)
    while json.loads(p.stdout.readline()).get("out") != "deadline":
        pass
    return p


def setup_lines():
    return [
        json.dumps({"op": "syscall", "id": 1, "pid": 1, "root": True, "name": "connect",
                    "args": ["rednet://0.0.0.2"]}),
    ]


def frame(i):
    return json.dumps({"op": "modem", "device": "/top", "channel": 1, "replyChannel": 2,
                       "message": {"nMessageID": i + 1, "nRecipient": 1, "nSender": 2,
                                   "message": "x" * 16}})


WRITE = json.dumps({"op": "method", "id": 2, "pid": 1, "handle": 0, "method": "write",
                    "args": ["y" * 16]})


def read_to_deadline(p):
    lines = []
    while True:
        line = p.stdout.readline()
        lines.append(line)
        if '"out":"deadline"' in line:
            return lines


def piped():
    p = start()
    inputs = setup_lines() + [frame(i) for i in range(n)] + [WRITE] * (n // 2)
    count = [0]

    def reader():
        for _ in p.stdout:
            count[0] += 1

    t = threading.Thread(target=reader)
    t.start()
    t0 = time.perf_counter()
    p.stdin.write("\n".join(inputs) + "\n")
    p.stdin.close()
    t.join()
    dt = time.perf_counter() - t0
    p.wait()
    print(f"piped: {len(inputs)} input lines, {count[0]} output lines in {dt:.2f} s "
          f"= {len(inputs) / dt:,.0f} input lines/s")


def lockstep():
    p = start()
    for line in setup_lines():
        p.stdin.write(line + "\n")
        p.stdin.flush()
        read_to_deadline(p)
    m = n // 5
    read = json.dumps({"op": "method", "id": 3, "pid": 1, "handle": 0, "method": "read",
                       "args": []})
    # Empty the handle's queue the piped run did not fill (this process is fresh anyway).
    for name, steps in [("write->transmit", [(lambda i: WRITE, '"out":"transmit"')]),
                        ("frame->event, read", [(lambda i: frame(10 ** 6 + i), '"out":"event"'),
                                                (lambda i: read, '"out":"reply"')])]:
        t0 = time.perf_counter()
        trips = 0
        for i in range(m):
            for make, want in steps:
                p.stdin.write(make(i) + "\n")
                p.stdin.flush()
                out = read_to_deadline(p)
                assert any(want in l for l in out), out
                trips += 1
        dt = time.perf_counter() - t0
        print(f"lock-step {name}: {trips} round trips in {dt:.2f} s = {trips / dt:,.0f}/s")
    p.stdin.close()
    p.wait()


piped()
lockstep()
