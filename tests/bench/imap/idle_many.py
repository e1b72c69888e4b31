"""Measure (not a test): the resident memory ownmail-imap adds for N
concurrent IDLE sessions (default 10,000: the issue's goal is under 1 GB for
the whole worker), and how soon an idling session hears of a delivery.

    cmake --build build-bench --target ownmail-api ownmail-smtp ownmail-imap
    cd build-bench && OWNMAIL_BIN_DIR=$PWD/bin OWNMAIL_SOURCE_DIR=$PWD/.. \
        /usr/bin/python3 ../tests/bench/imap/idle_many.py [N]

Starts the test stack (tests/integration/mailharness.py: Redis, api, smtp,
imap on loopback) with the cheapest Argon2id so that logging in N sessions
takes seconds, 20 users with 50 messages each, then opens N connections
(LOGIN, SELECT INBOX, IDLE) spread over the users, waits 2 s and reads
VmRSS of the worker before and after. Needs N + 50 file descriptors in this
process and in the worker (the hard limit here is 20,000).
"""
import os, sys, time, socket
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
import mailharness
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
USERS = 20
st = mailharness.MailStack(imap=True, imap_config={"imap.sessions_per_user": str(N), "imap.connections_per_ip": str(N + 10), "imap.connections_max": str(N + 10), "kdf.user_opslimit": "1", "kdf.user_memlimit": "8K"})
def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1])
try:
    st.start()
    st.domain("ex.test")
    for u in range(USERS):
        st.user("ex.test", f"u{u}", "password-123456")
    time.sleep(1.5)
    for u in range(USERS):
        for i in range(50):
            st.deliver(f"u{u}@ex.test", subject=f"m{i}")
    pid = st.imap.proc.pid
    base = rss(pid)
    socks = []
    t0 = time.time()
    for i in range(N):
        s = socket.create_connection(("127.0.0.1", st.imap_port))
        f = s.makefile("rb")
        f.readline()
        s.sendall(f"a LOGIN u{i % USERS}@ex.test password-123456\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
        while True:
            l = f.readline()
            if l.startswith(b"+") or not l:
                break
            if l.startswith(b"a NO") or l.startswith(b"b NO"):
                print(l); break
        socks.append((s, f))
    t1 = time.time()
    time.sleep(2)
    after = rss(pid)
    print(f"{N} idle sessions: rss before {base} KiB, after {after} KiB, per session {(after-base)/N:.1f} KiB, setup {t1-t0:.1f}s")
    t0 = time.time()
    st.deliver("u3@ex.test", subject="wake")
    s, f = socks[3]
    print("wake:", f.readline(), round(time.time() - t0, 3))
finally:
    st.close()
