#!/usr/bin/env python3
"""Normalise a kcmptrace trace directory for the golden tests.

    normalise.py [--path FROM=TO]... [--module-dir DIR] SRC DST

Reads SRC/*.rec (the record format of shim/common/record.h) and writes to
DST the same trace with everything that depends on the machine, the build
directory, the compiler's choice of paths or the time replaced by fixed
values, consistently in every record that names it, so that the reports of
DST depend only on what the traced programs did:

- pids: every pid (file names, image PID/PPID, fd SRC_PID, same PID,
  observed PID, reaped PID, "process N" in notes) becomes 5000001,
  5000002, ... in the order of the processes' (start, pid); such pids are
  above Linux's pid_max (at most 4194304), so never alive. Generations of
  observed descriptors (2147483648 + the observer's pid) follow their pid.
- start times: each (pid, start) becomes a start of its own, 100, 200, ...
  in the same order. Two processes that began in the same clock tick get
  two values: which processes share a tick varies from run to run, and
  the report uses START only to name a process and to sort by it.
- paths: each FROM prefix (longest first, followed by "/" or the end of
  the path) becomes its TO, in every string field (targets, exe, argv, untraced paths, notes). Call sites
  MODULE+0xOFF keep their offsets; their MODULE becomes a path that does
  not exist (a mapped one, or DIR/BASENAME for the system's libraries), so
  that the report shows them as BASENAME+0xOFF without reading any file.
- pipe:[N] and socket:[N]: N becomes 1, 2, ... in order of appearance.
- addr ports (IP sockets' ephemeral ports): 40001, 40002, ... in order of
  appearance; UNIX socket paths as paths.
- observed TIME: 10^18 + 1000 per distinct time, in order (+10^10 across a
  gap of a second or more, which the report treats as another
  observation).
- forked TIME and a setfl event's TIME (CLOCK_MONOTONIC): 10^15 + 1000
  per distinct time, in order (the report only compares them).
- ino DEV INO: DEV becomes 1, INO 1, 2, ... in order of appearance (the
  report only compares them).
- stat snapshot_us (and any --zero-stat NAME, e.g. kcmp_calls, which
  depends on the kernel's order of the descriptions) becomes 0.
- runs of "same" lines (written in kcmp's order, i.e. kernel addresses) are
  sorted.

Unknown record kinds are an error: a new field may need normalising.
"""
import argparse
import os
import re
import sys

OBSERVED = 0x80000000
FIRST_PID = 5000001
START_STEP = 100
TIME_BASE = 10**18
MONOTONIC_BASE = 10**15
INODE = re.compile(r'\b(pipe|socket):\[(\d+)\]')
IP_PORT = re.compile(r'^(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]*\]):(\d+)$')
NOTE_PID = re.compile(r'(process +)(\d+)')


def die(msg):
    sys.exit('normalise.py: ' + msg)


def read_trace(src):
    files = []
    for name in sorted(os.listdir(src)):
        if not name.endswith('.rec'):
            continue
        m = re.fullmatch(r'(\d+)-(\d+)\.rec', name)
        if not m:
            die(f'{src}/{name}: not PID-START.rec')
        with open(os.path.join(src, name), 'rb') as f:
            text = f.read().decode('utf-8', 'surrogateescape')
        if not text.endswith('\n'):
            die(f'{src}/{name}: last line truncated')
        lines = [line.split('\t') for line in text[:-1].split('\n')]
        files.append(((int(m.group(1)), int(m.group(2))), lines))
    if not files:
        die(f'{src}: no *.rec files')
    return files


class Normaliser:
    def __init__(self, paths, module_dir, zero_stats):
        # longest prefix first, so that a directory inside another maps
        # first; a prefix ends where a path component does
        self.paths = [(re.compile(re.escape(old) + r'(?![\w.+@~-])'), new)
                      for old, new in sorted(paths, key=lambda p: -len(p[0]))]
        self.module_dir = module_dir
        self.zero_stats = zero_stats
        self.pids = {}
        self.starts = {}
        self.inodes = {}
        self.ports = {}
        self.times = {}
        self.monotonic = {}

    # ---- the maps, from a first pass over every record ----

    def collect(self, files):
        pairs = set()
        bare = []  # pids named without a start, in order of appearance
        gens = []
        times = set()
        monotonic = set()

        def pair(pid, start):
            pid, start = int(pid), int(start)
            if pid == 0:
                return
            if start == 0:
                bare.append(pid)
            else:
                pairs.add((pid, start))

        for (pid, start), lines in files:
            pairs.add((pid, start))
            for f in lines[1:]:
                k = f[0]
                if k == 'image':
                    pair(f[1], f[4])
                    pair(f[2], f[3])
                elif k in ('fd', 'end-fd'):
                    pair(f[9], f[10])
                    gens += [f[2], f[12]]
                elif k == 'closed':
                    pair(f[5], f[6])
                    gens += [f[2], f[8]]
                elif k == 'same':
                    pair(f[3], f[4])
                    gens += [f[2], f[6]]
                elif k == 'observed':
                    pair(f[1], f[2])
                    gens.append(f[4])
                    times.add(int(f[9]))
                elif k == 'reaped':
                    bare.append(int(f[1]))
                elif k == 'stack':
                    gens.append(f[2])
                elif k == 'peer':
                    gens += [f[2], f[4]]
                elif k == 'event':
                    gens.append(f[3])
                    if f[1] == 'setfl' and len(f) > 7:
                        monotonic.add(int(f[7]))
                elif k == 'forked':
                    monotonic.add(int(f[1]))
                elif k == 'ino':
                    gens.append(f[2])
                elif k == 'note':
                    bare += [int(m.group(2)) for m in NOTE_PID.finditer(f[1])]
        for pid, start in sorted(pairs, key=lambda p: (p[1], p[0])):
            if pid in self.pids:
                die(f'pid {pid} names two processes (starts {self.starts_of(pid)} and {start}): '
                    'pid reused during the run, run it again')
            self.pids[pid] = FIRST_PID + len(self.pids)
            self.starts[(pid, start)] = START_STEP * (len(self.starts) + 1)
        for pid in bare:
            self.pids.setdefault(pid, FIRST_PID + len(self.pids))
        for g in gens:
            g = int(g)
            if g & OBSERVED and (g & ~OBSERVED) not in self.pids:
                die(f'generation {g}: observer pid {g & ~OBSERVED} appears nowhere else')
        t = None
        for prev, cur in zip([None] + sorted(times), sorted(times)):
            if prev is None:
                t = TIME_BASE
            else:
                t += 1000 if cur - prev < 10**9 else 10**10
            self.times[cur] = t
        for rank, cur in enumerate(sorted(monotonic)):
            self.monotonic[cur] = MONOTONIC_BASE + 1000 * rank

    def starts_of(self, pid):
        return [s for (p, s) in self.starts if p == pid]

    # ---- field maps ----

    def pid(self, v):
        v = int(v)
        return '0' if v == 0 else str(self.pids[v])

    def start(self, pid, start):
        pid, start = int(pid), int(start)
        if pid == 0 or start == 0:
            return str(start)
        return str(self.starts[(pid, start)])

    def gen(self, v):
        v = int(v)
        if v & OBSERVED:
            return str(OBSERVED | self.pids[v & ~OBSERVED])
        return str(v)

    def path(self, s):
        for old, new in self.paths:
            s = old.sub(lambda m: new, s)
        return s

    def inode(self, m):
        key = int(m.group(2))
        if key not in self.inodes:
            self.inodes[key] = len(self.inodes) + 1
        return f'{m.group(1)}:[{self.inodes[key]}]'

    def address(self, s):
        # IP ports (ephemeral) become 40001, 40002, ... in order of
        # appearance; a UNIX socket's path is a path.
        m = IP_PORT.match(s)
        if m:
            port = self.ports.setdefault(m.group(2), 40001 + len(self.ports))
            return f'{m.group(1)}:{port}'
        return s if s in ('-', '\\x00') else self.path(s)

    def target(self, s):
        return INODE.sub(self.inode, self.path(s))

    def site(self, s):
        if s == '-':
            return s
        at = s.rfind('+0x')
        if at <= 0:
            die(f'call site {s!r} is not MODULE+0xOFFSET')
        module = s[:at]
        mapped = self.path(module)
        if mapped == module:
            mapped = self.module_dir + '/' + os.path.basename(module)
        if os.path.exists(mapped):
            die(f'call site module {mapped} exists: the report would read it')
        return mapped + s[at:]

    def note(self, s):
        return NOTE_PID.sub(lambda m: m.group(1) + self.pid(m.group(2)), self.path(s))

    # ---- records ----

    def line(self, f):
        k = f[0]
        f = list(f)
        if k == 'image':
            f[3] = self.start(f[2], f[3])
            f[4] = self.start(f[1], f[4])
            f[1], f[2] = self.pid(f[1]), self.pid(f[2])
            f[5:] = [self.path(x) for x in f[5:]]
        elif k in ('fd', 'end-fd'):  # end-fd: as fd, at the real end
            f[2] = self.gen(f[2])
            f[4] = self.target(f[4])
            f[10] = self.start(f[9], f[10])
            f[9] = self.pid(f[9])
            f[12] = self.gen(f[12])
            f[13] = self.site(f[13])
        elif k == 'closed':  # closed FD GEN HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE
            f[2] = self.gen(f[2])
            f[6] = self.start(f[5], f[6])
            f[5] = self.pid(f[5])
            f[8] = self.gen(f[8])
            f[9] = self.site(f[9])
        elif k == 'same':
            f[2] = self.gen(f[2])
            f[4] = self.start(f[3], f[4])
            f[3] = self.pid(f[3])
            f[6] = self.gen(f[6])
        elif k == 'observed':
            f[2] = self.start(f[1], f[2])
            f[1] = self.pid(f[1])
            f[4] = self.gen(f[4])
            f[6] = self.target(f[6])
            f[9] = str(self.times[int(f[9])])
        elif k == 'stack':
            f[2] = self.gen(f[2])
            f[3:] = [self.site(x) for x in f[3:]]
        elif k == 'peer':
            f[2], f[4] = self.gen(f[2]), self.gen(f[4])
        elif k == 'addr':  # addr FD GEN LOCAL PEER LISTENING
            f[2] = self.gen(f[2])
            f[3], f[4] = self.address(f[3]), self.address(f[4])
        elif k == 'event':
            f[3] = self.gen(f[3])
            if f[1] == 'close-ebadf':  # ARG1: the generation the entry had
                f[4] = self.gen(f[4])
            f[6] = self.site(f[6])
            if f[1] == 'close-ebadf' and len(f) > 9:  # the open's and the close's sites
                f[7], f[9] = self.site(f[7]), self.site(f[9])
            if f[1] == 'setfl' and len(f) > 7:
                f[7] = str(self.monotonic[int(f[7])])
        elif k == 'forked':
            f[1] = str(self.monotonic[int(f[1])])
        elif k == 'ino':  # ino FD GEN DEV INO WHY
            f[2] = self.gen(f[2])
            f[3] = '1'
            f[4] = str(self.inodes.setdefault(f[4], len(self.inodes) + 1))
        elif k == 'stat':
            if f[1] in self.zero_stats:
                f[2] = '0'
        elif k == 'note':
            f[1] = self.note(f[1])
        elif k == 'untraced':
            f[1] = self.path(f[1])
        elif k == 'reaped':
            f[1] = self.pid(f[1])
        elif k in ('snap', 'end', 'ended', 'end-fds'):
            pass
        else:
            die(f'unknown record kind {k!r}: teach normalise.py its fields')
        return f

    def file(self, lines):
        out = [lines[0]] + [self.line(f) for f in lines[1:]]
        # kcmp reports pairs in the kernel's order: sort each run of them
        i = 0
        while i < len(out):
            j = i
            while j < len(out) and out[j][0] == 'same':
                j += 1
            if j - i > 1:
                out[i:j] = sorted(out[i:j], key=lambda f: [int(x) for x in f[1:7]])
            i = max(j, i + 1)
        return ''.join('\t'.join(f) + '\n' for f in out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--path', action='append', default=[], metavar='FROM=TO')
    ap.add_argument('--module-dir', default='/golden/sys')
    ap.add_argument('--zero-stat', action='append', default=['snapshot_us'], metavar='NAME')
    ap.add_argument('src')
    ap.add_argument('dst')
    a = ap.parse_args()
    paths = []
    for p in a.path:
        old, sep, new = p.partition('=')
        if not sep or not old:
            die(f'--path {p!r}: expected FROM=TO')
        paths.append((old, new))
    files = read_trace(a.src)
    n = Normaliser(paths, a.module_dir, set(a.zero_stat))
    n.collect(files)
    os.makedirs(a.dst, exist_ok=True)
    for old in os.listdir(a.dst):
        if old.endswith('.rec'):
            os.unlink(os.path.join(a.dst, old))
    # in the new (start, pid) order, so that inode numbers follow it
    files.sort(key=lambda pf: (n.starts[pf[0]], n.pids[pf[0][0]]))
    for (pid, start), lines in files:
        name = f'{n.pids[pid]}-{n.starts[(pid, start)]}.rec'
        with open(os.path.join(a.dst, name), 'wb') as f:
            f.write(n.file(lines).encode('utf-8', 'surrogateescape'))


if __name__ == '__main__':
    main()
