#!/usr/bin/env python3
"""A stand-in for "another implementation" of the stdio host protocol, for the conformance
suite's own tests: it runs a real host and rewrites the lines between it and the runner.

usage: conformance_shim.py [--renumber] [--flip RULE] -- COMMAND [ARGS...]

--renumber   consistently renumbers everything drawn from the random source or chosen freely
             by an implementation: ephemeral ports, PSP sequence numbers, PIP messageIDs, rednet
             nMessageIDs and handle ids. A correct suite must still pass every case.
--flip RULE  breaks one rule on purpose, so that exactly the cases pinning it fail:
             `refused`   - the PSP error text 'Connection refused' becomes 'Connection rejected';
             `connected` - Phoenix 0.0.9's handshake event status 'connected' instead of the
                           reference's 'open' (Q-EV1).
"""
import base64
import json
import subprocess
import sys

PORT_LO, PORT_N, PORT_SHIFT = 49152, 65533 - 49152, 5000
# Sequence numbers: XOR with high bits is a bijection that keeps `seq + k` consistent (no carry
# reaches those bits within a connection's life) and maps small numbers to large ones.
SEQ_MASK = 0x5A5 << 24
NID_MOD, NID_SHIFT = 2**31 - 1, 777777
HANDLE_SHIFT = 100
HANDLE_EVENTS = ("handle_status_change", "handle_data_ready", "network_request")


def port(p, forward):
    if not isinstance(p, int) or isinstance(p, bool) or not PORT_LO <= p < PORT_LO + PORT_N:
        return p
    d = PORT_SHIFT if forward else -PORT_SHIFT
    return PORT_LO + (p - PORT_LO + d) % PORT_N


def message_id(v):
    if isinstance(v, str):
        raw = v.encode("utf-8")
    elif isinstance(v, dict) and set(v) == {"$bytes"}:
        raw = base64.b64decode(v["$bytes"])
    else:
        return v
    if len(raw) != 32:
        return v
    raw = bytes(b ^ 0x5A for b in raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"$bytes": base64.b64encode(raw).decode()}


def walk(v, forward, ours, mine=False):
    """Messages: messageIDs, PSP sequence numbers (ours outbound, acknowledgements of ours
    inbound) and rednet IDs. `ours` is this computer's set of addresses: a router forwards other
    computers' segments, whose numbers are not its own."""
    if isinstance(v, list):
        return [walk(x, forward, ours, mine) for x in v]
    if not isinstance(v, dict) or "$bytes" in v or "$num" in v or "$table" in v:
        return v
    if v.get("type") == "internet":
        mine = v.get("source" if forward else "destination") in ours
    d = {k: walk(x, forward, ours, mine) for k, x in v.items()}
    if "messageID" in d:
        d["messageID"] = message_id(d["messageID"])
    if d.get("type") == "socket" and mine:
        f = "sequence" if forward else "acknowledgement"
        x = d.get(f)
        if isinstance(x, int) and not isinstance(x, bool) and x > 0:
            d[f] = x ^ SEQ_MASK
    n = d.get("nMessageID")
    if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= NID_MOD:
        d["nMessageID"] = (n - 1 + (NID_SHIFT if forward else -NID_SHIFT)) % NID_MOD + 1
    return d


def replace_text(v, old, new):
    if isinstance(v, str):
        return v.replace(old, new)
    if isinstance(v, list):
        return [replace_text(x, old, new) for x in v]
    if isinstance(v, dict):
        return {k: replace_text(x, old, new) for k, x in v.items()}
    return v


class Shim:
    def __init__(self, renumber, flip):
        self.renumber = renumber
        self.flip = flip
        self.connects = set()  # ids of pending connect syscalls
        self.ipconfigs = set()  # ids of pending ipconfig syscalls
        self.ours = set()  # addresses of this computer's interfaces

    def inbound(self, line):
        if not self.renumber or not isinstance(line, dict):
            return line
        for f in ("channel", "replyChannel"):
            if f in line:
                line[f] = port(line[f], False)
        if "message" in line:
            line["message"] = walk(line["message"], False, self.ours)
        if line.get("op") == "method" and isinstance(line.get("handle"), int):
            h = line["handle"]
            line["handle"] = h - HANDLE_SHIFT if h >= HANDLE_SHIFT else h + 10 * HANDLE_SHIFT
        if line.get("op") == "syscall" and line.get("name") == "connect":
            self.connects.add(json.dumps(line.get("id")))
        if line.get("op") == "syscall" and line.get("name") == "ipconfig":
            self.ipconfigs.add(json.dumps(line.get("id")))
        return line

    def outbound(self, line):
        if not isinstance(line, dict):
            return line
        o = line.get("out")
        if self.renumber:
            if o in ("open", "close", "transmit"):
                for f in ("channel", "replyChannel"):
                    if f in line:
                        line[f] = port(line[f], True)
            if o == "reply" and json.dumps(line.get("id")) in self.ipconfigs:
                self.ipconfigs.discard(json.dumps(line.get("id")))
                r = line.get("result")
                if line.get("ok") and isinstance(r, list) and r and isinstance(r[0], dict):
                    self.ours.add(r[0].get("ip"))
            if "message" in line:
                line["message"] = walk(line["message"], True, self.ours)
            if o == "reply" and json.dumps(line.get("id")) in self.connects:
                self.connects.discard(json.dumps(line.get("id")))
                r = line.get("result")
                if line.get("ok") and isinstance(r, list) and r and isinstance(r[0], int):
                    r[0] += HANDLE_SHIFT
            if o == "event":
                p = line.get("params")
                if isinstance(p, dict):
                    if line.get("name") in HANDLE_EVENTS:
                        for k in ("id", "handle"):
                            if isinstance(p.get(k), int):
                                p[k] += HANDLE_SHIFT
                    line["params"] = walk(p, True, self.ours)
        if self.flip == "refused":
            line = replace_text(line, "Connection refused", "Connection rejected")
        if self.flip == "connected" and o == "event" and line.get("name") == "handle_status_change":
            if line["params"].get("status") == "open":
                line["params"]["status"] = "connected"
        return line


def main():
    argv = sys.argv[1:]
    renumber, flip = False, None
    while argv and argv[0] != "--":
        a = argv.pop(0)
        if a == "--renumber":
            renumber = True
        elif a == "--flip":
            flip = argv.pop(0)
        else:
            sys.exit(__doc__)
    shim = Shim(renumber, flip)
    child = subprocess.Popen(argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def relay_batch():
        """Passes the child's lines on, rewritten, up to its `deadline`."""
        while True:
            out = child.stdout.readline()
            if not out:
                return False
            line = shim.outbound(json.loads(out))
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            if isinstance(line, dict) and line.get("out") == "deadline":
                sys.stdout.flush()
                return True

    if not relay_batch():  # the boot batch (`hello` ...)
        return
    for text in sys.stdin:
        if not text.strip():
            continue
        child.stdin.write(json.dumps(shim.inbound(json.loads(text))) + "\n")
        child.stdin.flush()
        if not relay_batch():
            return
    child.stdin.close()
    child.wait()


if __name__ == "__main__":
    main()
