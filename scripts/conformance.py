#!/usr/bin/env python3
"""Runs the conformance vectors of conformance/cases/ against any implementation of the stdio
host protocol (docs/stdio-host.md).

usage: scripts/conformance.py [--loose] [--cases DIR] -- COMMAND [ARGS...]

COMMAND is started once per case with `--id ID --modem PATH... --seed SEED` appended (the
computer of the case). Each step's input line is written to its stdin; output lines are read up
to and including the `deadline` line and compared with the expected ones.

--loose ignores values an implementation draws from its own random source (PIP `messageID`,
rednet `nMessageID`, PSP sequence and acknowledgement numbers, ephemeral ports 49152-65535), so
that another implementation can be checked against vectors made with this one's seeded source.
Exits 0 when every case passes; prints the first difference of each failing case.
"""
import json
import os
import subprocess
import sys

RANDOM_FIELDS = {"messageID", "nMessageID", "sequence", "acknowledgement"}


def scrub(v, loose):
    if not loose:
        return v
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in RANDOM_FIELDS:
                out[k] = "<random>"
            elif k in ("channel", "replyChannel") and isinstance(x, int) and x >= 49152:
                out[k] = "<ephemeral>"
            else:
                out[k] = scrub(x, loose)
        return out
    if isinstance(v, list):
        return [scrub(x, loose) for x in v]
    return v


def run_case(path, command, loose):
    case = json.load(open(path))
    comp = case["computer"]
    args = list(command) + ["--id", str(comp["id"]), "--seed", str(comp.get("seed", 0))]
    for m in comp.get("modems", []):
        args += ["--modem", m]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        # The boot batch: `hello` (protocol version) up to its `deadline`.
        boot = []
        while not boot or boot[-1].get("out") != "deadline":
            line = proc.stdout.readline()
            if not line:
                return "the implementation ended before its boot batch"
            boot.append(json.loads(line))
        if boot[0].get("out") != "hello" or boot[0].get("protocol") != 1:
            return f"expected a hello line with protocol 1, got {json.dumps(boot[0])}"
        for n, step in enumerate(case["steps"], 1):
            proc.stdin.write(json.dumps(step["in"]) + "\n")
            proc.stdin.flush()
            got = []
            while True:
                line = proc.stdout.readline()
                if not line:
                    return f"step {n}: the implementation ended"
                got.append(json.loads(line))
                if got[-1].get("out") == "deadline":
                    break
            if scrub(got, loose) != scrub(step["out"], loose):
                return f"step {n}: input {json.dumps(step['in'])}\n  want {json.dumps(step['out'])}\n  got  {json.dumps(got)}"
        return None
    finally:
        proc.kill()
        proc.wait()


def main():
    argv = sys.argv[1:]
    loose = False
    cases = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance", "cases")
    while argv and argv[0] != "--":
        a = argv.pop(0)
        if a == "--loose":
            loose = True
        elif a == "--cases":
            cases = argv.pop(0)
        else:
            sys.exit(__doc__)
    if not argv or len(argv) < 2:
        sys.exit(__doc__)
    command = argv[1:]
    failed = 0
    names = sorted(f for f in os.listdir(cases) if f.endswith(".json"))
    for name in names:
        err = run_case(os.path.join(cases, name), command, loose)
        print(f"{'ok  ' if err is None else 'FAIL'} {name}")
        if err:
            print("  " + err)
            failed += 1
    print(f"{len(names) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
