"""A minimal receiving SMTP server for the queue's integration tests.

Blocking sockets, one thread per connection (socketserver), no third-party
modules. It speaks enough RFC 5321 for a client: EHLO/HELO, optional
STARTTLS (RFC 3207) with a given certificate, MAIL, RCPT, DATA (dot-stuffing
undone), RSET, NOOP, QUIT. Every finished transaction is recorded in
`stub.transactions` (a list of dicts) for the test to inspect.

Replies are scriptable: `stub.rcpt_replies[addr]` is a list of replies
("451 4.3.0 try later") given to RCPT of that address one after the other
(then 250), and `stub.data_replies` likewise for the end of DATA.

`stub.offer_dsn` (default True, back to it on reset()) says whether EHLO
lists DSN (RFC 3461): set it False to play a server that does not, to which
a client must not send NOTIFY, ORCPT, ENVID or RET.
"""
import socket
import socketserver
import ssl
import threading


def _dsn_params(line):
    """True when a MAIL or RCPT line carries an RFC 3461 parameter."""
    params = line.split(">", 1)[1].upper().split() if ">" in line else []
    return any(p.split("=", 1)[0] in ("RET", "ENVID", "NOTIFY", "ORCPT") for p in params)


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(4096)
        if not line:
            raise EOFError
        return line.rstrip(b"\r\n").decode("utf-8", "replace")

    def handle(self):
        stub = self.server.stub
        session = {"tls": False, "helo": None, "commands": []}
        with stub.lock:
            stub.sessions.append(session)
        txn = None
        try:
            self.send(f"220 {stub.name} ESMTP queue test stub")
            while True:
                line = self.readline()
                session["commands"].append(line)
                verb = line.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    session["helo"] = line[5:]
                    ext = ["8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE 10485760"]
                    if stub.offer_dsn:
                        ext.insert(2, "DSN")
                    if stub.context is not None and not session["tls"]:
                        ext.append("STARTTLS")
                    if stub.auth and session["tls"]:
                        ext.append("AUTH PLAIN")
                    lines = [stub.name] + ext
                    for item in lines[:-1]:
                        self.send("250-" + item)
                    self.send("250 " + lines[-1])
                elif verb == "HELO":
                    session["helo"] = line[5:]
                    self.send(f"250 {stub.name}")
                elif verb == "STARTTLS" and stub.context is not None and not session["tls"]:
                    self.send("220 2.0.0 ready to start TLS")
                    tls = stub.context.wrap_socket(self.connection, server_side=True)
                    self.connection = tls
                    self.rfile = tls.makefile("rb")
                    self.wfile = tls.makefile("wb")
                    session["tls"] = True
                    session["tls_version"] = tls.version()
                elif verb == "AUTH":
                    session["auth"] = line[5:]
                    self.send("235 2.7.0 authenticated")
                elif verb in ("MAIL", "RCPT") and not stub.offer_dsn and _dsn_params(line):
                    self.send("555 5.5.4 DSN parameters, but DSN was not offered")
                elif verb == "MAIL":
                    txn = {"from": line[10:], "rcpts": [], "tls": session["tls"]}
                    self.send("250 2.1.0 ok")
                elif verb == "RCPT" and txn is not None:
                    addr = line[8:].split(">", 1)[0] + ">"
                    reply = stub.next_reply(stub.rcpt_replies, addr.strip("<>"))
                    if reply.startswith("2"):
                        txn["rcpts"].append(line[8:])
                    self.send(reply)
                elif verb == "DATA" and txn is not None and txn["rcpts"]:
                    self.send("354 go ahead")
                    body = []
                    while True:
                        raw = self.rfile.readline(1 << 20)
                        if not raw:
                            raise EOFError
                        if raw == b".\r\n":
                            break
                        body.append(raw[1:] if raw.startswith(b".") else raw)
                    txn["data"] = b"".join(body)
                    reply = stub.next_reply(stub.data_replies, "*")
                    txn["reply"] = reply
                    with stub.lock:
                        stub.transactions.append(txn)
                    txn = None
                    self.send(reply)
                elif verb == "RSET":
                    txn = None
                    self.send("250 2.0.0 ok")
                elif verb == "NOOP":
                    self.send("250 2.0.0 ok")
                elif verb == "QUIT":
                    self.send("221 2.0.0 bye")
                    return
                else:
                    self.send("503 5.5.1 bad sequence")
        except (EOFError, OSError, ssl.SSLError):
            return
        finally:
            if session["tls"]:
                self.connection.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpStub:
    def __init__(self, name="mx.remote.test", certfile=None, keyfile=None, auth=None):
        self.name = name
        self.lock = threading.Lock()
        self.transactions = []
        self.sessions = []
        self.rcpt_replies = {}
        self.data_replies = {}
        self.auth = auth
        self.offer_dsn = True
        self.context = None
        if certfile:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(certfile, keyfile)
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.stub = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def next_reply(self, table, key):
        with self.lock:
            queue = table.get(key)
            if queue:
                return queue.pop(0)
        return "250 2.0.0 ok"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self.lock:
            self.transactions.clear()
            self.sessions.clear()
            self.rcpt_replies.clear()
            self.data_replies.clear()
            self.offer_dsn = True


def free_port(kind=socket.SOCK_STREAM):
    """A port that is free for TCP and UDP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")
