#!/usr/bin/python3
"""IMAP client side of tests/bench/imap.sh (standard library only: runs with
Debian's /usr/bin/python3). Every command talks plain IMAP (LOGIN, no TLS)
to 127.0.0.1:PORT.

  wait PORT USER PASS TIMEOUT
      until a LOGIN succeeds (the server may still be loading its users).
  fill PORT USER PASS DIR COUNT
      APPENDs DIR/00000.eml .. (COUNT of them, in order) to INBOX, 500 per
      connection, with the dates of DIR/dates as internal dates and flags
      that depend on the index only; then checks that INBOX holds COUNT.
      Prints "SECONDS".
  search PORT USER PASS COUNT WARMUP WORD...
      one session: SELECT INBOX, one SEARCH TEXT WARMUP, then COUNT
      SEARCH TEXT cycling through the WORDs. Prints "SECONDS" (the COUNT
      searches) and then "WORD HITS" per word.
  idle PORT ROOTPID SESSIONS USERS PASSFMT SETTLE
      memory of ROOTPID and all its descendants (RSS and PSS from
      /proc/PID/smaps_rollup), then SESSIONS connections spread over
      user1..userUSERS (round robin; USERFMT user{}@bench.example, password
      PASSFMT.format(i)) each LOGIN, SELECT INBOX, IDLE and "+ idling";
      after SETTLE seconds the memory again; then DONE, LOGOUT and close.
      Prints "rss_before rss_after pss_before pss_after procs_before
      procs_after" (KiB, and counts of processes).
"""
import asyncio
import imaplib
import os
import resource
import sys
import time

HOST = "127.0.0.1"
USERFMT = "user{}@bench.example"
PER_CONNECTION = 500


def die(msg):
    print(f"client.py: {msg}", file=sys.stderr)
    sys.exit(1)


def connect(port, user, password):
    m = imaplib.IMAP4(HOST, port, timeout=600)
    m.login(user, password)
    return m


def select_count(m):
    typ, data = m.select("INBOX")
    if typ != "OK":
        die(f"SELECT INBOX: {typ} {data}")
    return int(data[0])


def cmd_wait(port, user, password, timeout):
    deadline = time.time() + float(timeout)
    last = None
    while time.time() < deadline:
        try:
            m = connect(int(port), user, password)
            m.logout()
            return
        except (OSError, imaplib.IMAP4.error) as e:
            last = e
        time.sleep(0.2)
    die(f"LOGIN {user} on port {port} did not succeed: {last}")


def flags_of(i):
    f = []
    if i % 10 < 7:
        f.append("\\Seen")
    if i % 37 == 0:
        f.append("\\Flagged")
    if i % 11 == 0:
        f.append("\\Answered")
    return "(" + " ".join(f) + ")"


def append_plus(m, flags, date, data):
    """APPEND with a non-synchronizing literal (RFC 7888 LITERAL+, which
    both servers advertise): command and message in one write, no wait for
    "+", so the fill is not paced by round trips and delayed ACKs."""
    tag = m._new_tag()
    m.send(b"%s APPEND INBOX %s %s {%d+}\r\n" % (tag, flags.encode(),
                                                    date.encode(), len(data)) + data + b"\r\n")
    while True:
        line = m.readline()
        if not line:
            return "BYE", [b"connection closed"]
        if line.startswith(tag + b" "):
            typ, _, rest = line[len(tag) + 1:].partition(b" ")
            return typ.decode(), [rest]


def cmd_fill(port, user, password, directory, count):
    port, count = int(port), int(count)
    with open(os.path.join(directory, "dates")) as f:
        dates = [int(x) for x in f.read().split()]
    if len(dates) < count:
        die(f"{directory} holds {len(dates)} messages, {count} wanted")
    t0 = time.perf_counter()
    m = None
    for i in range(count):
        if i % PER_CONNECTION == 0:
            if m is not None:
                m.logout()
            m = connect(port, user, password)
        with open(os.path.join(directory, "%05d.eml" % i), "rb") as f:
            data = f.read()
        typ, resp = append_plus(m, flags_of(i), imaplib.Time2Internaldate(dates[i]), data)
        if typ != "OK":
            die(f"APPEND of message {i}: {typ} {resp}")
    if m is not None:
        m.logout()
    elapsed = time.perf_counter() - t0
    m = connect(port, user, password)
    n = select_count(m)
    m.logout()
    if n != count:
        die(f"{user}: INBOX holds {n} messages after the fill, expected {count}")
    print("%.3f" % elapsed)


def cmd_search(port, user, password, count, warmup, *words):
    m = connect(int(port), user, password)
    select_count(m)
    typ, data = m.search(None, "TEXT", warmup)
    if typ != "OK":
        die(f"SEARCH TEXT {warmup}: {typ} {data}")
    hits = {}
    t0 = time.perf_counter()
    for i in range(int(count)):
        w = words[i % len(words)]
        typ, data = m.search(None, "TEXT", w)
        if typ != "OK":
            die(f"SEARCH TEXT {w}: {typ} {data}")
        hits[w] = len(data[0].split())
    elapsed = time.perf_counter() - t0
    m.logout()
    print("%.3f" % elapsed)
    for w in words:
        if w in hits:
            print(w, hits[w])


# ---- memory ----------------------------------------------------------------

def descendants(root):
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def memory(root):
    """(RSS KiB, PSS KiB, processes) of root and its descendants."""
    rss = pss = n = 0
    for p in descendants(root):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            n += 1
        except (OSError, ValueError):
            pass  # gone meanwhile, or a kernel thread
    return rss, pss, n


async def session(port, user, password, ready, stop, sem, errors):
    tag = 0

    async def command(reader, writer, text):
        nonlocal tag
        tag += 1
        t = "a%d" % tag
        writer.write(f"{t} {text}\r\n".encode())
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError(f"connection closed after {text.split()[0]}")
            if line.startswith(t.encode() + b" "):
                if line.split()[1] != b"OK":
                    raise ConnectionError(f"{text.split()[0]}: {line.decode(errors='replace').strip()}")
                return

    writer = None
    try:
        async with sem:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 60)
            greeting = await asyncio.wait_for(reader.readline(), 60)
            if not greeting.startswith(b"* OK"):
                raise ConnectionError(f"greeting {greeting!r}")
            await asyncio.wait_for(command(reader, writer, f'LOGIN "{user}" "{password}"'), 120)
            await asyncio.wait_for(command(reader, writer, "SELECT INBOX"), 120)
            writer.write(b"i IDLE\r\n")
            await writer.drain()
            while True:
                line = await asyncio.wait_for(reader.readline(), 120)
                if not line:
                    raise ConnectionError("connection closed after IDLE")
                if line.startswith(b"+"):
                    break
                if line.startswith(b"i "):
                    raise ConnectionError(f"IDLE: {line!r}")
        ready()
        await stop.wait()
        writer.write(b"DONE\r\n")
        writer.write(b"z LOGOUT\r\n")
        await writer.drain()
        await asyncio.wait_for(reader.read(), 30)
    except (OSError, asyncio.TimeoutError, ConnectionError) as e:
        errors.append(f"{user}: {e!r}")
        ready()
    finally:
        if writer is not None:
            writer.close()


async def idle_main(port, root, sessions, users, passfmt, settle):
    before = memory(root)
    stop = asyncio.Event()
    all_ready = asyncio.Event()
    errors = []
    count = 0

    def ready():
        nonlocal count
        count += 1
        if count == sessions:
            all_ready.set()

    sem = asyncio.Semaphore(50)  # logins in flight at once
    tasks = []
    t0 = time.perf_counter()
    for i in range(sessions):
        u = i % users + 1
        tasks.append(asyncio.create_task(
            session(port, USERFMT.format(u), passfmt.format(u), ready, stop, sem, errors)))
    await all_ready.wait()
    opened = time.perf_counter() - t0
    if errors:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        die(f"{len(errors)} of {sessions} sessions failed, first: {errors[0]}")
    print(f"client.py: {sessions} sessions idling after {opened:.1f}s", file=sys.stderr)
    await asyncio.sleep(settle)
    after = memory(root)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    if errors:
        die(f"{len(errors)} sessions failed while closing, first: {errors[0]}")
    print(before[0], after[0], before[1], after[1], before[2], after[2])


def cmd_idle(port, root, sessions, users, passfmt, settle):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = int(sessions) + 100
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            die(f"the file limit ({hard}) is too low for {sessions} sessions")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    asyncio.run(idle_main(int(port), int(root), int(sessions), int(users), passfmt,
                          float(settle)))


COMMANDS = {"wait": (cmd_wait, 4), "fill": (cmd_fill, 5), "search": (cmd_search, None),
            "idle": (cmd_idle, 6)}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit(__doc__)
    fn, nargs = COMMANDS[sys.argv[1]]
    args = sys.argv[2:]
    if (nargs is not None and len(args) != nargs) or (nargs is None and len(args) < 6):
        raise SystemExit(__doc__)
    fn(*args)
