"""A minimal MTA side of the milter protocol (version 6, as Postfix speaks
it), for the protocol-level tests: enough to drive a filter through
connections and messages and to see every reply and modification.

Wire format: 4-byte big-endian length, 1-byte command, payload. The
filter's option negotiation reply says which commands it does not want
(SMFIP_NO*) and which it will not answer (SMFIP_NR_*); this client honours
both, as Postfix does. Every receive has a timeout: a hang is a failure."""
import socket
import struct

SMFIF_ADDHDRS, SMFIF_CHGBODY, SMFIF_ADDRCPT, SMFIF_DELRCPT = 0x01, 0x02, 0x04, 0x08
SMFIF_CHGHDRS, SMFIF_QUARANTINE, SMFIF_CHGFROM = 0x10, 0x20, 0x40
ALL_ACTIONS = 0x1FF

P_NOCONNECT, P_NOHELO, P_NOMAIL, P_NORCPT = 0x1, 0x2, 0x4, 0x8
P_NOBODY, P_NOHDRS, P_NOEOH, P_NR_HDR = 0x10, 0x20, 0x40, 0x80
P_NOUNKNOWN, P_NODATA, P_SKIP, P_RCPT_REJ = 0x100, 0x200, 0x400, 0x800
P_NR_CONN, P_NR_HELO, P_NR_MAIL, P_NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
P_NR_DATA, P_NR_UNKN, P_NR_EOH, P_NR_BODY = 0x10000, 0x20000, 0x40000, 0x80000
P_HDR_LEADSPC = 0x100000
ALL_PROTOCOL = 0x1FFFFF

# replies that end a command
FINAL = {b"c": "continue", b"a": "accept", b"r": "reject", b"t": "tempfail",
         b"d": "discard", b"y": "replycode", b"s": "skip"}


class MilterError(Exception):
    pass


class MilterClient:
    def __init__(self, spec, timeout=30):
        kind, _, rest = spec.partition(":")
        if kind in ("unix", "local"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(rest)
        elif kind == "inet":
            port, _, host = rest.partition("@")
            self.sock = socket.create_connection((host or "127.0.0.1", int(port)), timeout)
        else:
            raise ValueError("socket spec: " + spec)
        self.protocol = 0
        self.actions = 0

    def close(self):
        self.sock.close()

    # ------------------------------------------------------------ wire
    def send(self, cmd, payload=b""):
        self.sock.sendall(struct.pack(">I", len(payload) + 1) + cmd + payload)

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise MilterError("connection closed by the filter")
            data += chunk
        return data

    def recv(self):
        (length,) = struct.unpack(">I", self._read(4))
        data = self._read(length)
        return data[:1], data[1:]

    # ------------------------------------------------------------ commands
    def optneg(self, actions=ALL_ACTIONS, protocol=ALL_PROTOCOL):
        self.send(b"O", struct.pack(">III", 6, actions, protocol))
        cmd, data = self.recv()
        if cmd != b"O":
            raise MilterError("negotiation answered %r" % cmd)
        _, self.actions, self.protocol = struct.unpack(">III", data[:12])
        return self.actions, self.protocol

    def _reply_unless(self, nr_flag):
        if self.protocol & nr_flag:
            return None
        cmd, data = self.recv()
        return FINAL.get(cmd, cmd.decode()), data

    def macros(self, for_cmd, values):
        payload = for_cmd
        for k, v in values.items():
            payload += k.encode() + b"\0" + v.encode() + b"\0"
        self.send(b"D", payload)

    def connect(self, hostname="client.example", family="4", address="192.0.2.1", port=25,
                macros=None):
        if self.protocol & P_NOCONNECT:
            return None
        if macros:
            self.macros(b"C", macros)
        if family == "U":
            payload = hostname.encode() + b"\0U" + struct.pack(">H", 0) + address.encode() + b"\0"
        else:
            payload = (hostname.encode() + b"\0" + family.encode() + struct.pack(">H", port)
                       + address.encode() + b"\0")
        self.send(b"C", payload)
        return self._reply_unless(P_NR_CONN)

    def helo(self, name="client.example"):
        if self.protocol & P_NOHELO:
            return None
        self.send(b"H", name.encode() + b"\0")
        return self._reply_unless(P_NR_HELO)

    def mail(self, sender="<alice@example.net>", macros=None):
        if macros:
            self.macros(b"M", macros)
        if self.protocol & P_NOMAIL:
            return None
        self.send(b"M", sender.encode() + b"\0")
        return self._reply_unless(P_NR_MAIL)

    def rcpt(self, recipient="<bob@example.com>"):
        if self.protocol & P_NORCPT:
            return None
        self.send(b"R", recipient.encode() + b"\0")
        return self._reply_unless(P_NR_RCPT)

    def data(self):
        if self.protocol & P_NODATA:
            return None
        self.send(b"T")
        return self._reply_unless(P_NR_DATA)

    def header(self, name, value):
        if self.protocol & P_NOHDRS:
            return None
        self.send(b"L", name.encode() + b"\0" + value.encode() + b"\0")
        return self._reply_unless(P_NR_HDR)

    def eoh(self):
        if self.protocol & P_NOEOH:
            return None
        self.send(b"N")
        return self._reply_unless(P_NR_EOH)

    def body(self, data):
        """Sends the body in 64 KiB chunks; returns the last reply (or
        'skip' when the filter asked to skip the rest)."""
        if self.protocol & P_NOBODY:
            return None
        reply = None
        for i in range(0, max(len(data), 1), 65535):
            self.send(b"B", data[i:i + 65535])
            reply = self._reply_unless(P_NR_BODY)
            if reply is not None and reply[0] == "skip":
                break
        return reply

    def eom(self, macros=None):
        """End of message: returns (final, modifications), final being
        (name, payload) and modifications a list of tuples:
        ('addheader', name, value), ('insheader', index, name, value),
        ('chgheader', index, name, value), ('quarantine', reason)."""
        if macros:
            self.macros(b"E", macros)
        self.send(b"E")
        mods = []
        while True:
            cmd, data = self.recv()
            if cmd in FINAL:
                return (FINAL[cmd], data.rstrip(b"\0").decode()), mods
            if cmd == b"h":
                name, value = data.split(b"\0")[:2]
                mods.append(("addheader", name.decode(), value.decode()))
            elif cmd in (b"i", b"m"):
                (index,) = struct.unpack(">I", data[:4])
                name, value = data[4:].split(b"\0")[:2]
                mods.append(("insheader" if cmd == b"i" else "chgheader", index,
                             name.decode(), value.decode()))
            elif cmd == b"q":
                mods.append(("quarantine", data.rstrip(b"\0").decode()))
            elif cmd == b"p":
                continue	# progress: the filter is still working
            else:
                mods.append((cmd.decode(), data))

    def abort(self):
        self.send(b"A")

    def quit(self):
        self.send(b"Q")


def split_message(raw):
    """(headers as [(name, value)], body bytes) of an RFC 5322 message."""
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line.decode("utf-8", "replace"))
        elif b":" in line:
            name, _, value = line.partition(b":")
            headers.append((name.decode(), value.decode("utf-8", "replace").lstrip(" ")))
    return headers, body.replace(b"\n", b"\r\n")


def send_message(client, raw, sender="<alice@example.net>", recipients=("<bob@example.com>",),
                 mail_macros=None, queue_id="TESTQID"):
    """One whole transaction on an open, negotiated, connected client."""
    client.mail(sender, macros=dict({"i": queue_id}, **(mail_macros or {})))
    for r in recipients:
        client.rcpt(r)
    client.data()
    headers, body = split_message(raw)
    for name, value in headers:
        client.header(name, value)
    client.eoh()
    client.body(body)
    return client.eom(macros={"i": queue_id})
