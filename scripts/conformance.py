#!/usr/bin/env python3
"""Runs the Phoenix network conformance suite (conformance/cases/*.json, format 2, described in
docs/conformance.md) against any program that speaks the stdio host protocol
(docs/stdio-host.md). Python standard library only.

usage: scripts/conformance.py [OPTIONS] -- COMMAND [ARGS...]
       scripts/conformance.py --coverage

COMMAND is started once per computer of a case, with `--id ID --seed SEED --modem PATH...` (and
`--router` for a router) appended. The runner writes each step's input line, reads every output
line up to `deadline`, plays the modem medium between the computers of a multi-computer case,
and compares the outputs with the expected lines.

options:
  --cases DIR         the case directory (default: conformance/cases next to this script)
  --case NAME         run only this case (repeatable)
  --junit FILE        also write a JUnit XML report
  --against LEVEL     `reference` (default): exit 1 unless every case passes;
                      `phoenix-0.0.9`: exit 1 only for cases that differ from Phoenix 0.0.9
  --seed-offset N     add N to every computer's seed (values from the random source change)
  --bless             rewrite the expected lines from this implementation's output, keeping
                      matchers and provenance (review the diff)
  -v, --verbose       print every difference, not only the first mismatch of a case
  --coverage          print the rule -> case/step coverage table (Markdown) and exit
  --timeout SECONDS   how long to wait for one output line (default 10)
  --jobs N            cases run side by side (default: the number of CPUs)
"""
import base64
import json
import math
import os
import re
import select
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape, quoteattr

FORMAT = 2
PROTOCOL = 1  # the stdio protocol version the cases are written for (the `hello` line)
PHOENIX = "phoenix-0.0.9"
META = ("$at", "$from", "$phoenix", "$none", "$note")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "conformance")
EXPR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\d+))?\s*$")


class CaseError(Exception):
    """The case cannot continue (implementation ended, timed out, or a variable is unbound)."""


# ---------------------------------------------------------------------------------------------
# Values, matchers and variables


def same(a, b):
    """Equality of two JSON values that keeps booleans apart from numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def is_matcher(v):
    return isinstance(v, dict) and any(k in v for k in ("$capture", "$expr", "$any"))


def evaluate(expr, env):
    m = EXPR.match(expr)
    if not m:
        raise CaseError(f"bad expression {expr!r}")
    name, sign, n = m.groups()
    if name not in env:
        raise CaseError(f"variable {name!r} is used before a step captured it")
    v = env[name]
    if sign:
        v = v + int(n) if sign == "+" else v - int(n)
    return v


def byte_len(v):
    if isinstance(v, str):
        return len(v.encode("utf-8"))
    if isinstance(v, dict) and set(v) == {"$bytes"}:
        try:
            return len(base64.b64decode(v["$bytes"]))
        except ValueError:
            return None
    return None


def kind_ok(spec, g):
    kind = spec.get("$any", "value") if "$any" in spec else spec.get("kind", "value")
    if kind == "value":
        return g is not None
    if kind in ("number", "integer"):
        if isinstance(g, bool) or not isinstance(g, (int, float)):
            return False
        if kind == "integer" and (isinstance(g, float) and not g.is_integer()):
            return False
        return spec.get("min", -math.inf) <= g <= spec.get("max", math.inf)
    if kind == "bytes":
        n = byte_len(g)
        return n is not None and ("len" not in spec or n == spec["len"])
    if kind == "string":
        return isinstance(g, str)
    raise CaseError(f"unknown matcher kind {kind!r}")


def match(e, g, env, new):
    """Does got value `g` match expected `e`? Captures go into `new` (not into `env`)."""
    if isinstance(e, dict):
        if "$capture" in e:
            name = e["$capture"]
            if not kind_ok(e, g):
                return False
            if name in env or name in new:
                return same((env | new)[name], g)
            new[name] = g
            return True
        if "$expr" in e:
            try:
                return same(evaluate(e["$expr"], env | new), g)
            except CaseError:
                return False
        if "$any" in e:
            return kind_ok(e, g)
        if not isinstance(g, dict):
            return False
        keys = [k for k in e if k not in META]
        if set(keys) != set(g):
            return False
        for k in keys:
            if not match(e[k], g[k], env, new):
                return False
        return True
    if isinstance(e, list):
        if not isinstance(g, list) or len(e) != len(g):
            return False
        return all(match(x, y, env, new) for x, y in zip(e, g))
    return same(e, g)


def try_match(e, g, env):
    new = {}
    return new if match(e, g, env, new) else None


def resolve(v, env):
    """An input value with every `{"$expr": ...}` replaced by its value."""
    if isinstance(v, dict):
        if "$expr" in v:
            return evaluate(v["$expr"], env)
        return {k: resolve(x, env) for k, x in v.items()}
    if isinstance(v, list):
        return [resolve(x, env) for x in v]
    return v


def strip_meta(line):
    return {k: v for k, v in line.items() if k not in META}


# ---------------------------------------------------------------------------------------------
# Processes and the medium


class Instance:
    def __init__(self, name, spec, command, seed_offset, timeout):
        self.name = name
        self.spec = spec
        self.timeout = timeout
        args = list(command) + ["--id", str(spec["id"]),
                                "--seed", str(spec.get("seed", 0) + seed_offset)]
        for m in spec.get("modems", []):
            args += ["--modem", m["device"] if isinstance(m, dict) else m]
        if spec.get("router"):
            args.append("--router")
        for p in spec.get("forward_ports", []):
            args += ["--forward-port", str(p)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buf = b""
        self.open = set()  # (device, channel)
        self.hear_all = set()  # devices whose host hears every channel

    def readline(self):
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CaseError(f"computer {self.name}: no output line within {self.timeout} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise CaseError(f"computer {self.name}: the implementation ended")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8")

    def exchange(self, line):
        """Writes one input line; returns the output lines up to (without) `deadline`."""
        try:
            self.proc.stdin.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise CaseError(f"computer {self.name}: the implementation ended")
        return self.batch()

    def boot(self):
        """The boot batch: `hello` with the protocol version, then what the computer asks at
        boot, up to `deadline`."""
        text = self.readline()
        try:
            hello = json.loads(text)
        except ValueError:
            hello = None
        if not isinstance(hello, dict) or hello.get("out") != "hello" or hello.get("protocol") != PROTOCOL:
            raise CaseError(f"computer {self.name}: expected a hello line with protocol {PROTOCOL}, "
                            f"got {text}")
        return self.batch()

    def batch(self):
        out = []
        while True:
            text = self.readline()
            if not text.strip():
                continue
            try:
                v = json.loads(text)
            except ValueError:
                raise CaseError(f"computer {self.name}: output is not JSON: {text}")
            o = v.get("out") if isinstance(v, dict) else None
            if o == "deadline":
                return out
            if o == "hello":
                continue
            out.append(v)

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.kill()
        self.proc.wait()


def modem_specs(spec):
    """Every modem of a computer as {device, net, pos}."""
    out = []
    for m in spec.get("modems", []):
        if isinstance(m, str):
            m = {"device": m}
        out.append({"device": m["device"], "net": m.get("net", "default"),
                    "pos": m.get("pos", [0, 0, 0])})
    return out


class Medium:
    """CC's rule: a transmit reaches every other modem on the same network that has the channel
    open (or hears every channel), with the distance between the two modems."""

    def __init__(self, instances):
        self.instances = instances
        self.modems = {name: modem_specs(i.spec) for name, i in instances.items()}

    def observe(self, inst, line):
        o = line.get("out")
        key = (line.get("device"), line.get("channel"))
        if o == "open":
            inst.open.add(key)
        elif o == "close":
            inst.open.discard(key)
        elif o == "hear_all":
            inst.hear_all.add(line.get("device"))

    def deliveries(self, sender, line):
        src = next((m for m in self.modems[sender] if m["device"] == line.get("device")), None)
        if src is None:
            return []
        out = []
        for name, inst in self.instances.items():
            for m in self.modems[name]:
                if name == sender and m["device"] == src["device"]:
                    continue
                if m["net"] != src["net"]:
                    continue
                if (m["device"], line["channel"]) not in inst.open and m["device"] not in inst.hear_all:
                    continue
                d = math.dist(src["pos"], m["pos"])
                out.append((name, {"op": "modem", "device": m["device"], "channel": line["channel"],
                                   "replyChannel": line["replyChannel"], "message": line["message"],
                                   "distance": int(d) if float(d).is_integer() else d}))
        return out


def computers(case):
    if "computers" in case:
        return [(c["name"], c) for c in case["computers"]]
    return [("a", case["computer"])]


def play_step(step, names, instances, medium, env):
    """Feeds one step's input and lets the medium settle; returns {computer: [output lines]}."""
    line = resolve(step["in"], env)
    if "to" in step:
        targets = [step["to"]]
    elif line.get("op") == "time":
        targets = names
    else:
        targets = [names[0]]
    queue = [(t, line) for t in targets]
    got = {n: [] for n in names}
    order = []  # (computer, line) in the order the lines were written
    budget = 10000
    while queue:
        budget -= 1
        if budget == 0:
            raise CaseError("the medium did not settle after 10000 deliveries")
        name, l = queue.pop(0)
        inst = instances[name]
        for o in inst.exchange(l):
            got[name].append(o)
            order.append((name, o))
            medium.observe(inst, o)
            if o.get("out") == "transmit":
                queue.extend(medium.deliveries(name, o))
    return got, order


# ---------------------------------------------------------------------------------------------
# Comparison, provenance and scores


class Proposals:
    def __init__(self, path):
        self.why = {}
        if os.path.exists(path):
            self.why = json.load(open(path, encoding="utf-8"))

    def line(self, frm):
        if frm in (None, PHOENIX):
            return f"{PHOENIX}: the genuine kernel's behaviour as the specification records it"
        return f"reference ({frm}): the reference {self.why.get(frm, '(unknown proposal)')}"


def provenance(line, case):
    return line.get("$from", case.get("from", PHOENIX))


def compare(expected, got, env):
    """Aligns expected lines with got lines (both for one computer, in order). Returns
    (matched expected indexes, phoenix-alternative matched indexes, unmatched got lines, binds)."""
    binds = {}
    matched, alt = set(), set()
    j = 0
    used = set()
    for i, e in enumerate(expected):
        if e.get("$none"):
            # The reference emits nothing here; Phoenix 0.0.9 emits the `$phoenix` line.
            for k in range(j, len(got)):
                new = try_match(e["$phoenix"], got[k], env | binds)
                if new is not None:
                    binds.update(new)
                    alt.add(i)
                    used.add(k)
                    j = k + 1
                    break
            continue
        for k in range(j, len(got)):
            new = try_match(strip_meta(e), got[k], env | binds)
            if new is not None:
                binds.update(new)
                matched.add(i)
                used.add(k)
                j = k + 1
                break
        else:
            ph = e.get("$phoenix", "absent")
            if isinstance(ph, dict):
                for k in range(j, len(got)):
                    new = try_match(ph, got[k], env | binds)
                    if new is not None:
                        binds.update(new)
                        alt.add(i)
                        used.add(k)
                        j = k + 1
                        break
    extra = [g for k, g in enumerate(got) if k not in used]
    return matched, alt, extra, binds


class Result:
    def __init__(self, name):
        self.name = name
        self.ref_total = self.ref_ok = 0
        self.ph_total = self.ph_ok = 0
        self.diffs = []  # (step, computer, kind, provenance, text)
        self.first = None  # verbose text of the first mismatch
        self.error = None
        self.seconds = 0.0

    def status(self):
        if self.error:
            return "error"
        if any(d[3] == PHOENIX for d in self.diffs):
            return "differs from 0.0.9"
        if self.diffs:
            return "differs from reference"
        return "pass"


def score_step(case, n, step, got, names, env, res, proposals):
    exp_by = {c: [] for c in names}
    for e in step.get("out", []):
        exp_by[e.get("$at", step.get("to", names[0]))].append(e)
    # Captures can cross computers (a SYN-ACK acknowledges the other side's SYN): settle the
    # variables first, then score.
    for _ in names:
        for c in names:
            env.update(compare(exp_by[c], got.get(c, []), env)[3])
    any_mismatch = False
    for c in names:
        mismatch = False
        exp, g = exp_by[c], got.get(c, [])
        matched, alt, extra, binds = compare(exp, g, env)
        env.update(binds)
        for i, e in enumerate(exp):
            frm = provenance(e, case)
            if e.get("$none"):
                res.ref_total += 1
                res.ph_total += 1
                if i in alt:
                    res.ph_ok += 1
                    mismatch = True
                    res.diffs.append((n, c, "unexpected", frm,
                                      json.dumps(e["$phoenix"], ensure_ascii=False)))
                else:
                    res.ref_ok += 1
                continue
            res.ref_total += 1
            if i in matched:
                res.ref_ok += 1
            has_alt = "$phoenix" in e
            if frm == PHOENIX or has_alt:
                res.ph_total += 1
                if frm == PHOENIX and i in matched:
                    res.ph_ok += 1
                elif has_alt and (i in alt or (e["$phoenix"] is None and i not in matched)):
                    res.ph_ok += 1
            if i not in matched:
                mismatch = True
                res.diffs.append((n, c, "missing", frm,
                                  json.dumps(strip_meta(e), ensure_ascii=False)))
        for g_line in extra:
            res.ref_total += 1
            res.ph_total += 1
            mismatch = True
            res.diffs.append((n, c, "unexpected", PHOENIX, json.dumps(g_line, ensure_ascii=False)))
        if mismatch and res.first is None:
            res.first = first_diff(case, n, step, c, exp, g, env, proposals)
        any_mismatch |= mismatch
    return any_mismatch


def first_diff(case, n, step, c, exp, got, env, proposals):
    lines = [f"step {n} (computer {c}): input {json.dumps(step['in'], ensure_ascii=False)}"]
    if step.get("pins"):
        lines.append(f"  pins: {', '.join(step['pins'])}")
    lines.append("  expected:")
    for e in exp:
        lines.append(f"    [{provenance(e, case)}] {json.dumps(strip_meta(e), ensure_ascii=False)}")
    lines.append("  got:")
    for g in got:
        lines.append(f"    {json.dumps(g, ensure_ascii=False)}")
    if env:
        lines.append("  variables: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(env.items())))
    # Field by field, each missing line against the closest got line of the same kind.
    matched, _, _, _ = compare(exp, got, env)
    for i, e in enumerate(exp):
        if i in matched or e.get("$none"):
            continue
        want = strip_meta(e)
        same_kind = [g for g in got if isinstance(g, dict) and g.get("out") == want.get("out")
                     and g.get("name") == want.get("name")]
        if not same_kind:
            lines.append(f"  expected line {i + 1}: no line of kind {want.get('out')!r} came at all")
            continue
        best = min((paths_differing(want, g, env) for g in same_kind), key=len)
        lines.append(f"  expected line {i + 1}, closest got line differs at:")
        for path, w, g in best[:6]:
            lines.append(f"    {path or '(line)'}: want {json.dumps(w, ensure_ascii=False)}, "
                         f"got {json.dumps(g, ensure_ascii=False)}")
    return "\n".join(lines)


MISSING = "(absent)"


def paths_differing(e, g, env, path=""):
    """(path, expected, got) of every leaf where `g` does not match `e`."""
    if isinstance(e, dict) and not is_matcher(e) and isinstance(g, dict) \
            and not ({"$bytes", "$num", "$table"} & set(e)):
        out = []
        for k in sorted(set(e) | set(g)):
            if k in META:
                continue
            sub = f"{path}.{k}" if path else k
            if k not in g:
                out.append((sub, e[k], MISSING))
            elif k not in e:
                out.append((sub, MISSING, g[k]))
            else:
                out.extend(paths_differing(e[k], g[k], env, sub))
        return out
    if isinstance(e, list) and isinstance(g, list) and len(e) == len(g):
        out = []
        for k, (x, y) in enumerate(zip(e, g)):
            out.extend(paths_differing(x, y, env, f"{path}[{k}]"))
        return out
    return [] if try_match(e, g, env) is not None else [(path, e, g)]


def run_case(case, command, args, proposals):
    res = Result(case["name"])
    start = time.monotonic()
    comps = computers(case)
    names = [n for n, _ in comps]
    instances = {}
    env = {}
    outs = []
    try:
        for n, spec in comps:
            instances[n] = Instance(n, spec, command, args.seed_offset, args.timeout)
        medium = Medium(instances)
        for inst in instances.values():
            for o in inst.boot():
                medium.observe(inst, o)
                if o.get("out") == "hear_all" and inst.spec.get("hear_all") is False:
                    # A host like CC, whose modem cannot hear every channel, refuses.
                    inst.hear_all.discard(o.get("device"))
                    for r in inst.exchange({"op": "hear_all_refused", "device": o.get("device")}):
                        medium.observe(inst, r)
        ann = Annotator(env) if args.bless else None
        for n, step in enumerate(case["steps"], 1):
            got, order = play_step(step, names, instances, medium, env)
            outs.append(got)
            if ann:
                bless_step(step, order, names, env)
                who = step.get("to", names[0])
                step["in"] = ann.input(step["in"], who)
                # twice: a line may use a value that a later line of the step captures
                for _ in range(2):
                    step["out"] = [ann.output(o, step["in"], who) for o in step["out"]]
            else:
                score_step(case, n, step, got, names, env, res, proposals)
    except CaseError as e:
        res.error = str(e) + f" (after step {len(outs)})"
    finally:
        for inst in instances.values():
            inst.close()
    res.seconds = time.monotonic() - start
    res.env = env
    return res


# ---------------------------------------------------------------------------------------------
# Blessing


def merge(e, g, env):
    """The expected value `e` brought up to date with the got value `g`, keeping matchers that
    still match."""
    if is_matcher(e):
        new = try_match(e, g, env)
        if new is not None:
            env.update(new)
            return e
        return g
    if isinstance(e, dict) and isinstance(g, dict) and not ({"$bytes", "$num", "$table"} & set(e)):
        out = {}
        for k, v in g.items():
            out[k] = merge(e[k], v, env) if k in e else v
        for k in META:
            if k in e:
                out[k] = e[k]
        return out
    if isinstance(e, list) and isinstance(g, list) and len(e) == len(g):
        return [merge(x, y, env) for x, y in zip(e, g)]
    return g


def bless_step(step, order, names, env):
    exp_by = {c: [] for c in names}
    nones = []
    for e in step.get("out", []):
        if e.get("$none"):
            nones.append(e)
        else:
            exp_by[e.get("$at", step.get("to", names[0]))].append(e)
    out = []
    counts = {c: 0 for c in names}
    for c, line in order:
        exp, i = exp_by[c], counts[c]
        counts[c] += 1
        m = merge(exp[i], line, env) if i < len(exp) else dict(line)
        if len(names) > 1:
            m = {"$at": c, **{k: v for k, v in m.items() if k != "$at"}}
        out.append(m)
    for c in names:
        if exp_by[c] and len(exp_by[c]) != counts[c]:
            print(f"  bless: computer {c}: {len(exp_by[c])} expected lines, {counts[c]} now "
                  "(new lines carry the case's provenance: review them)", file=sys.stderr)
    step["out"] = out + nones


def dump(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def write_case(path, case):
    """One output line per text line, so that a changed expectation is a one-line diff."""
    head = {k: v for k, v in case.items() if k != "steps"}
    text = "{\n"
    for k, v in head.items():
        if k == "computers":
            text += f' "computers": [\n' + ",\n".join(f"  {dump(c)}" for c in v) + "\n ],\n"
        else:
            text += f" {dump(k)}: {dump(v)},\n"
    text += ' "steps": [\n'
    steps = []
    for s in case["steps"]:
        t = "  {"
        extras = [k for k in s if k not in ("in", "out")]
        t += "".join(f"{dump(k)}: {dump(s[k])}, " for k in extras)
        t += f'"in": {dump(s["in"])},\n   "out": ['
        if s.get("out"):
            t += "\n" + ",\n".join(f"    {dump(o)}" for o in s["out"]) + "]}"
        else:
            t += "]}"
        steps.append(t)
    text += ",\n".join(steps) + "\n ]\n}\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------------------------------------
# Annotation: values drawn from the random source become matchers and variables (used by
# --bless for lines it adds, and once to convert format-1 files)

# 65533-65535 are rednet's fixed channels, never drawn by a stack in practice
EPHEMERAL = (49152, 65532)
SEQ_MAX = 2 ** 40
NEAR = 100000


class Annotator:
    def __init__(self, env):
        self.env = env  # values of variables captured so far (from blessing)
        self.ports, self.nids, self.handles = {}, {}, {}
        self.seqs = []  # (base, name)
        self.seen_in_input = set()
        self.counter = {}

    def fresh(self, stem):
        n = self.counter.get(stem, 0) + 1
        self.counter[stem] = n
        name = stem if n == 1 else f"{stem}{n}"
        while name in self.env:
            n += 1
            self.counter[stem] = n
            name = f"{stem}{n}"
        return name

    def learn(self, v, kind):
        """An existing capture: remember its value under its kind."""
        name = v.get("$capture")
        if name not in self.env:
            return
        val = self.env[name]
        if kind == "port":
            self.ports[val] = name
        elif kind == "seq":
            self.seqs.append((val, name))
        elif kind == "nid":
            self.nids[val] = name
        elif kind == "handle":
            self.handles[val] = name

    def seq_expr(self, v):
        for base, name in self.seqs:
            if isinstance(v, int) and not isinstance(v, bool) and base - 2 <= v <= base + NEAR:
                d = v - base
                return {"$expr": name if d == 0 else f"{name} {'+' if d > 0 else '-'} {abs(d)}"}
        return None

    def port(self, v, output):
        if is_matcher(v):
            self.learn(v, "port")
            return v
        if not isinstance(v, int) or isinstance(v, bool) or not EPHEMERAL[0] <= v <= EPHEMERAL[1]:
            return v
        if v in self.ports:
            return {"$expr": self.ports[v]}
        if not output or v in self.seen_in_input:
            self.seen_in_input.add(v)
            return v
        name = self.fresh("port")
        self.ports[v] = name
        self.env[name] = v
        return {"$capture": name, "$any": "integer", "min": 49152, "max": 65535}

    def handle(self, v, capture, who):
        """Handle ids are per computer: `who` names it."""
        if is_matcher(v):
            name = v.get("$capture")
            if name in self.env:
                self.handles[(who, self.env[name])] = name
            return v
        if not isinstance(v, int) or isinstance(v, bool):
            return v
        if (who, v) in self.handles:
            return {"$expr": self.handles[(who, v)]}
        if not capture:
            return v
        name = self.fresh("h")
        self.handles[(who, v)] = name
        self.env[name] = v
        return {"$capture": name, "$any": "integer", "min": 0}

    def value(self, v, output):
        """Walks a message (or any value) for messageID, PSP numbers and rednet IDs."""
        if isinstance(v, list):
            return [self.value(x, output) for x in v]
        if not isinstance(v, dict) or is_matcher(v) or {"$bytes", "$num", "$table"} & set(v):
            return v
        d = {k: self.value(x, output) for k, x in v.items()}
        mid = d.get("messageID")
        if output and not is_matcher(mid) and byte_len(mid) == 32:
            d["messageID"] = {"$any": "bytes", "len": 32}
        if d.get("type") == "socket":
            for f in ("sequence", "acknowledgement"):
                x = d.get(f)
                if is_matcher(x):
                    self.learn(x, "seq")
                    continue
                e = self.seq_expr(x)
                if e:
                    d[f] = e
                elif (f == "sequence" and output and d.get("synchronize") is True
                      and isinstance(x, int) and x > NEAR):
                    name = self.fresh("seq")
                    self.seqs.append((x, name))
                    self.env[name] = x
                    d[f] = {"$capture": name, "$any": "integer", "min": 1, "max": SEQ_MAX}
        nid = d.get("nMessageID")
        if is_matcher(nid):
            self.learn(nid, "nid")
        elif isinstance(nid, int) and not isinstance(nid, bool):
            if nid in self.nids:
                d["nMessageID"] = {"$expr": self.nids[nid]}
            elif output:
                name = self.fresh("nid")
                self.nids[nid] = name
                self.env[name] = nid
                d["nMessageID"] = {"$capture": name, "$any": "integer", "min": 1,
                                   "max": 2 ** 31 - 1}
        return d

    def input(self, line, who):
        line = dict(line)
        for f in ("channel", "replyChannel"):
            if f in line:
                line[f] = self.port(line[f], False)
        if line.get("op") == "method" and "handle" in line:
            line["handle"] = self.handle(line["handle"], False, who)
        if "message" in line:
            line["message"] = self.value(line["message"], False)
        return line

    def output(self, line, last_input, who):
        fixed = "$from" in line
        line = dict(line)
        who = line.get("$at", who)
        o = line.get("out")
        if o in ("open", "close", "transmit"):
            for f in ("channel", "replyChannel"):
                if f in line:
                    line[f] = self.port(line[f], True)
        if "message" in line:
            line["message"] = self.value(line["message"], True)
        if (o == "reply" and line.get("ok") is True and last_input.get("op") == "syscall"
                and last_input.get("name") == "connect" and isinstance(line.get("result"), list)
                and line["result"]):
            line["result"] = [self.handle(line["result"][0], True, who)] + line["result"][1:]
        if o == "event" and isinstance(line.get("params"), dict):
            p = dict(line["params"])
            if "id" in p:
                p["id"] = self.handle(p["id"], False, who)
            if "handle" in p:
                p["handle"] = self.handle(p["handle"], line.get("name") == "network_request", who)
            for k in ("payload", "message"):
                if k in p:
                    p[k] = self.value(p[k], True)
            line["params"] = p
        if not fixed:
            msg = line.get("message") if o == "transmit" else None
            if (isinstance(msg, dict) and msg.get("type") == "arp" and msg.get("reply") is False
                    and msg.get("sourceIP") is not None
                    and msg.get("sourceIP") == msg.get("destinationIP")):
                line["$from"] = "Q-ARP2"
                line["$phoenix"] = None
            if o == "event" and line.get("name") == "handle_status_change":
                p = line["params"]
                if p.get("status") == "open":
                    line["$from"] = "Q-EV1"
                    line["$phoenix"] = {**strip_meta(line), "params": {**p, "status": "connected"}}
                elif p.get("status") == "error" and "error" in p:
                    line["$from"] = "Q-EV2"
                    line["$phoenix"] = {**strip_meta(line),
                                        "params": {k: v for k, v in p.items() if k != "error"}}
        return line


# ---------------------------------------------------------------------------------------------
# Coverage


def coverage(cases_dir):
    rules = json.load(open(os.path.join(ROOT, "rules.json"), encoding="utf-8"))
    pins = {}
    for name, case in load_cases(cases_dir, []):
        for n, s in enumerate(case["steps"], 1):
            for r in s.get("pins", []):
                pins.setdefault(r, []).append(f"`{name}` {n}")
    unknown = sorted(set(pins) - {r["id"] for r in rules})
    print("| rule | spec | what | pinned by (case, step) |")
    print("|---|---|---|---|")
    missing = []
    for r in rules:
        where = pins.get(r["id"], [])
        if not where and not r.get("why"):
            missing.append(r["id"])
        cell = ", ".join(where[:4]) + (f" (+{len(where) - 4})" if len(where) > 4 else "")
        if not where:
            cell = "not pinned: " + r.get("why", "(no reason given)")
        print(f"| `{r['id']}` | {r['spec']} | {r['what']} | {cell} |")
    for u in unknown:
        print(f"warning: pin {u!r} is not in conformance/rules.json", file=sys.stderr)
    return missing, unknown


# ---------------------------------------------------------------------------------------------


def load_cases(cases_dir, only):
    out = []
    for f in sorted(os.listdir(cases_dir)):
        if not f.endswith(".json"):
            continue
        case = json.load(open(os.path.join(cases_dir, f), encoding="utf-8"))
        if case.get("format") != FORMAT:
            sys.exit(f"{f}: format {case.get('format')!r}, this runner reads format {FORMAT}")
        if only and case["name"] not in only:
            continue
        out.append((case["name"], case))
    return out


def junit(path, results):
    fails = sum(1 for r in results if r.status() != "pass")
    body = [f'<testsuite name="phoenix-conformance" tests="{len(results)}" failures="{fails}">']
    for r in results:
        body.append(f'  <testcase classname="conformance" name={quoteattr(r.name)} '
                    f'time="{r.seconds:.3f}">')
        if r.status() != "pass":
            text = (r.error or "") + "\n" + "\n".join(
                f"step {d[0]} ({d[1]}) {d[2]} [{d[3]}]: {d[4]}" for d in r.diffs)
            body.append(f'    <failure message={quoteattr(r.status())}>{escape(text)}</failure>')
        body.append("  </testcase>")
    body.append("</testsuite>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(body) + "\n")


class Args:
    cases = os.path.join(ROOT, "cases")
    only = []
    junit = None
    against = "reference"
    seed_offset = 0
    bless = False
    verbose = False
    timeout = 10.0
    jobs = os.cpu_count() or 2


def parse(argv):
    a = Args()
    a.only = []
    cov = False
    while argv and argv[0] != "--":
        o = argv.pop(0)
        if o == "--cases":
            a.cases = argv.pop(0)
        elif o == "--case":
            a.only.append(argv.pop(0))
        elif o == "--junit":
            a.junit = argv.pop(0)
        elif o == "--against":
            a.against = argv.pop(0)
            if a.against not in ("reference", PHOENIX):
                sys.exit("--against takes reference or phoenix-0.0.9")
        elif o == "--seed-offset":
            a.seed_offset = int(argv.pop(0))
        elif o == "--timeout":
            a.timeout = float(argv.pop(0))
        elif o == "--jobs":
            a.jobs = int(argv.pop(0))
        elif o == "--bless":
            a.bless = True
        elif o in ("-v", "--verbose"):
            a.verbose = True
        elif o == "--coverage":
            cov = True
        else:
            sys.exit(__doc__)
    return a, cov, argv[1:]


def main():
    args, cov, command = parse(sys.argv[1:])
    if cov:
        missing, unknown = coverage(args.cases)
        for m in missing:
            print(f"error: rule {m!r} is pinned by no case and says no why", file=sys.stderr)
        sys.exit(1 if unknown or missing else 0)
    if not command:
        sys.exit(__doc__)
    proposals = Proposals(os.path.join(ROOT, "proposals.json"))
    cases = load_cases(args.cases, args.only)
    if args.only and len(cases) != len(set(args.only)):
        sys.exit(f"no such case among: {', '.join(args.only)}")
    results = []
    width = max((len(n) for n, _ in cases), default=4)
    # Cases are independent: run them side by side (each is a few processes talking in turn).
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        done = list(pool.map(lambda c: run_case(c[1], command, args, proposals), cases))
    for (name, case), r in zip(cases, done):
        results.append(r)
        if args.bless:
            write_case(os.path.join(args.cases, name + ".json"), case)
            print(f"blessed {name}" + (f": {r.error}" if r.error else ""))
            continue
        ref = f"{r.ref_ok}/{r.ref_total}"
        ph = f"{r.ph_ok}/{r.ph_total}"
        print(f"{r.status():<24} {name:<{width}}  reference {ref:>7}  {PHOENIX} {ph:>7}")
        if r.error:
            print(f"    error: {r.error}")
        shown = r.diffs if args.verbose else r.diffs[:1]
        for d in shown:
            print(f"    step {d[0]} ({d[1]}): {d[2]} line, {proposals.line(d[3])}")
            print(f"      {d[4]}")
        if len(r.diffs) > len(shown):
            print(f"    ... {len(r.diffs) - len(shown)} more differences (-v shows them)")
        if r.first:
            print("    first mismatch:\n      " + r.first.replace("\n", "\n      "))
    if args.bless:
        sys.exit(1 if any(r.error for r in results) else 0)
    counts = {}
    for r in results:
        counts[r.status()] = counts.get(r.status(), 0) + 1
    ref_ok = sum(r.ref_ok for r in results)
    ref_total = sum(r.ref_total for r in results)
    ph_ok = sum(r.ph_ok for r in results)
    ph_total = sum(r.ph_total for r in results)
    print(f"{len(results)} cases: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    print(f"lines agreeing with the reference: {ref_ok}/{ref_total}; "
          f"with {PHOENIX}: {ph_ok}/{ph_total}")
    if args.junit:
        junit(args.junit, results)
    if args.against == PHOENIX:
        bad = [r for r in results if r.status() in ("error", "differs from 0.0.9")]
    else:
        bad = [r for r in results if r.status() != "pass"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
