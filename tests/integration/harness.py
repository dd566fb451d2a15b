# SPDX-License-Identifier: Apache-2.0
"""Shared harness of the integration tests.

The tests start the real programs (esthub, estctl, est-adapter, est-feed) in a
temporary instance directory on loopback and drive them with the real clients
or, where a test must craft what no well-behaved client sends, with a raw
CURVE client built on python3-zmq and bindings generated from proto/est.proto
at run time. Nothing shipped is mocked.

Environment (set by tests/integration/CMakeLists.txt): ESTHUB, ESTCTL,
EST_ADAPTER, EST_FEED (program paths), ESTHUB_SOURCE_DIR, ESTHUB_BUILD_DIR.
Run by hand: ESTHUB_BUILD_DIR=build python3 -m unittest -v test_ingest
from tests/integration.
"""

import atexit
import errno
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import zmq
import zmq.auth

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("ESTHUB_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.environ.get("ESTHUB_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
SAMPLE_DIR = os.path.join(SOURCE_DIR, "config", "sample", "week")
SAMPLE_FILES = [os.path.join(SAMPLE_DIR, n) for n in ("municipality.jsonl", "police.jsonl", "housing.jsonl")]
SAMPLE_ORGS = {"municipality.jsonl": "municipality", "police.jsonl": "police", "housing.jsonl": "housing"}

# Sanitizer builds are several times slower; every wait scales with this.
SLOW = float(os.environ.get("ESTHUB_IT_SLOW", "1"))
READY_TIMEOUT_S = 30 * SLOW
RUN_TIMEOUT_S = 60 * SLOW

AREAS = ("city", "marielund", "hageby", "navestad", "klockaretorpet")


def _program(env_name, rel):
    path = os.environ.get(env_name)
    if path:
        return path
    for cand in (os.path.join(BUILD_DIR, rel), os.path.join(BUILD_DIR, os.path.basename(rel))):
        if os.access(cand, os.X_OK):
            return cand
    return os.path.join(BUILD_DIR, rel)


ESTHUB = _program("ESTHUB", "hub/esthub")
ESTCTL = _program("ESTCTL", "hub/ctl/estctl")
EST_ADAPTER = _program("EST_ADAPTER", "adapters/est-adapter")
EST_FEED = _program("EST_FEED", "adapters/feed/est-feed")
# The benchmarks' load generator (bench/load.c), a real sender for tests that need load.
BENCH_LOAD = os.path.join(BUILD_DIR, "bench", "bench-load")
# The power cut for the tests (tests/tools/powercut_vfs.c), preloaded by test_power_cut.
POWERCUT = os.environ.get("ESTHUB_POWERCUT") or os.path.join(BUILD_DIR, "tests", "tools",
                                                             "libesthub-powercut.so")

# ---------------------------------------------------------------------------
# Protobuf bindings, generated once per process from the committed proto.

_pb = None
_pb_dir = None
_pb_lock = threading.Lock()


def pb():
    """The est_pb2 module compiled from proto/est.proto (once per process; thread-safe)."""
    with _pb_lock:
        return _pb_load()


def _pb_load():
    global _pb, _pb_dir
    if _pb is None:
        _pb_dir = tempfile.mkdtemp(prefix="esthub-pb-")
        atexit.register(shutil.rmtree, _pb_dir, True)
        subprocess.run(["protoc", "--python_out=" + _pb_dir, "-I", os.path.join(SOURCE_DIR, "proto"),
                        os.path.join(SOURCE_DIR, "proto", "est.proto")], check=True)
        sys.path.insert(0, _pb_dir)
        import est_pb2  # noqa: E402 (generated just above)
        _pb = est_pb2
    return _pb


def json_format():
    from google.protobuf import json_format as jf
    return jf


# ---------------------------------------------------------------------------
# Small helpers.


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout_s, interval_s=0.05, what="condition"):
    """Polls pred until it returns a true value (returned) or timeout_s passes (AssertionError;
    what, a string or a function returning one, says what was awaited)."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout_s, what() if callable(what) else what))
        time.sleep(interval_s)


def now():
    return int(time.time())


def point_in_polygon(lat, lon, ring):
    """Even-odd rule; ring is a GeoJSON ring of [lon, lat]."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x:
                inside = not inside
    return inside


def load_areas(path=None):
    """{area id: [rings]} from an areas.geojson."""
    with open(path or os.path.join(SOURCE_DIR, "config", "areas.geojson"), encoding="utf-8") as f:
        gj = json.load(f)
    out = {}
    for feat in gj["features"]:
        g = feat["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        out[feat["properties"]["id"]] = polys
    return out


def locate(areas, lat, lon):
    """The area containing (lat, lon), or 'outside' (holes respected)."""
    for area, polys in areas.items():
        for poly in polys:
            if point_in_polygon(lat, lon, poly[0]) and not any(point_in_polygon(lat, lon, h) for h in poly[1:]):
                return area
    return "outside"


_seq = 0


def report(source_id=None, **kw):
    """A valid est.v1.Report (observed an hour ago in Hageby) with kw overriding fields."""
    global _seq
    P = pb()
    _seq += 1
    r = P.Report(
        source_id=source_id if source_id is not None else "it-%d-%d-%d" % (os.getpid(), int(time.time() * 1000) % 10 ** 9, _seq),
        category=P.CATEGORY_GATHERING,
        subcategory="gathering",
        area="hageby",
        place="Hageby centrum, huvudentrén",
        observed_at=now() - 3600,
        severity=2,
        people_count=10,
        description="Grupp vid entrén, besökare upplevde oro.",
        reporter_role="fältassistent",
    )
    pos = kw.pop("position", None)
    for k, v in kw.items():
        if v is None:
            r.ClearField(k)
        else:
            setattr(r, k, v)
    if pos is not None:
        r.position.lat, r.position.lon = pos
    return r


def report_json(r):
    """One line of protobuf JSON for est-adapter --format json."""
    return json.dumps(json_format().MessageToDict(r), ensure_ascii=False, separators=(",", ":"))


def report_key(r):
    return (r.source_id, r.revision)


def envelope(reports, request_id=1, version=1):
    P = pb()
    e = P.Envelope(version=version, request_id=request_id)
    e.reports.reports.extend(reports)
    return e


# Hand encoding, for what python protobuf refuses to build (bad UTF-8).


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, n):
    return varint(num << 3) + varint(n)


def field_bytes(num, data):
    return varint((num << 3) | 2) + varint(len(data)) + data


def envelope_bytes(report_blobs, request_id=1, version=1):
    """Serialized Envelope{version, request_id, reports: ReportBatch{reports}} from raw Report bytes."""
    batch = b"".join(field_bytes(1, rb) for rb in report_blobs)
    return field_varint(1, version) + field_varint(2, request_id) + field_bytes(10, batch)


# ---------------------------------------------------------------------------
# Processes.


class Proc:
    """A background process with stdout collected line by line and stderr kept in a file."""

    def __init__(self, argv, cwd, log_path, env=None):
        self.argv = argv
        self.log_path = log_path
        self.lines = []
        self.q = queue.Queue()
        self._err = open(log_path, "ab")
        self.p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=self._err, env=env)
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            self.q.put(line)
        self.q.put(None)

    def next_line(self, timeout_s):
        """The next stdout line, None at end of output; raises queue.Empty on timeout."""
        return self.q.get(timeout=timeout_s)

    def alive(self):
        return self.p.poll() is None

    def stderr_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait(self, timeout_s):
        try:
            rc = self.p.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None
        self._t.join(timeout=5)
        return rc

    def signal(self, sig):
        if self.alive():
            try:
                self.p.send_signal(sig)
            except ProcessLookupError:
                pass

    def kill(self):
        if self.alive():
            try:
                self.p.kill()
            except ProcessLookupError:
                pass
        self.p.wait()
        self._t.join(timeout=5)
        self.close()

    def close(self):
        if self.p.stdout:
            self.p.stdout.close()
        self._err.close()


READY_RE = re.compile(r"^esthub: ready ingest=(\S+) feed=(\S+) head_seq=(\d+)\s*$")


class Hub:
    """One `esthub run DIR` process."""

    def __init__(self, inst, n):
        self.inst = inst
        self.log_path = os.path.join(inst.tmp, "hub-%d.log" % n)
        self.proc = Proc(inst.hub_wrap + [ESTHUB, "run", inst.dir], inst.tmp, self.log_path)
        self.ingest = self.feed = None
        self.head_seq = None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.proc.next_line(max(left, 0.01))
            except queue.Empty:
                line = "timeout"
            if line is None or line == "timeout":
                rc = self.proc.p.poll()
                self.proc.kill()
                raise AssertionError("esthub run did not print its ready line (%s, exit %s); stderr:\n%s"
                                     % (line or "end of output", rc, self.proc.stderr_text()[-3000:]))
            m = READY_RE.match(line)
            if m:
                self.ingest, self.feed, self.head_seq = m.group(1), m.group(2), int(m.group(3))
                return

    def alive(self):
        return self.proc.alive()

    def stop(self, sig=signal.SIGTERM, timeout_s=None):
        """Sends sig and waits; returns the exit status (None when still running after timeout_s)."""
        self.proc.signal(sig)
        rc = self.proc.wait(timeout_s or 20 * SLOW)
        if rc is not None:
            self.proc.close()
        return rc

    def kill9(self):
        self.proc.signal(signal.SIGKILL)
        rc = self.proc.wait(10)
        self.proc.close()
        return rc


class Client:
    """A certified client: its name and secret certificate."""

    def __init__(self, inst, name, role, org=None, groups=None):
        self.inst, self.name, self.role, self.org, self.groups = inst, name, role, org, groups
        self.secret = os.path.join(inst.dir, "clients", name + "_secret")
        self.public = os.path.join(inst.dir, "certs", name)


class Instance:
    """A temporary instance directory (esthub init) with helpers to run the programs in it."""

    def __init__(self, fixed_ports=False, keep=None):
        # Short path: the control socket is ipc:// in DIR/run (sun_path is 108 bytes).
        self.tmp = tempfile.mkdtemp(prefix="esthub-it-", dir="/tmp")
        self.dir = os.path.join(self.tmp, "inst")
        # ESTHUB_IT_KEEP=1 keeps the instance directories for a look afterwards.
        self.keep = keep if keep is not None else os.environ.get("ESTHUB_IT_KEEP") == "1"
        self.hub = None
        self._hubs = 0
        self.hub_wrap = []  # argv put before `esthub run DIR` (it must exec esthub in the end)
        self._procs = []
        self.mounts = []
        argv = [ESTHUB, "init", self.dir]
        if fixed_ports:
            self.ingest_ep = "tcp://127.0.0.1:%d" % free_port()
            self.feed_ep = "tcp://127.0.0.1:%d" % free_port()
        else:
            self.ingest_ep = self.feed_ep = "tcp://127.0.0.1:*"
        argv += ["--ingest", self.ingest_ep, "--feed", self.feed_ep]
        r = subprocess.run(argv, cwd=self.tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT_S)
        if r.returncode != 0:
            raise AssertionError("esthub init failed (%d): %s%s" % (r.returncode, r.stdout, r.stderr))
        self.hub_cert = os.path.join(self.dir, "keys", "hub")
        self.conf = os.path.join(self.dir, "hub.conf")

    # -- configuration -----------------------------------------------------

    def conf_set(self, section, key, value):
        """Rewrites `key = value` in [section] of hub.conf in place (appends it when absent)."""
        with open(self.conf, encoding="utf-8") as f:
            lines = f.read().split("\n")
        cur, done, sec_end = None, False, None
        for i, line in enumerate(lines):
            s = line.strip()
            if s.startswith("[") and s.endswith("]"):
                if cur == section and sec_end is None:
                    sec_end = i
                cur = s[1:-1].strip()
                continue
            if cur == section and re.match(r"^\s*%s\s*[=:]" % re.escape(key), line):
                lines[i] = "%s = %s" % (key, value)
                done = True
        if not done:
            if cur == section and sec_end is None:
                sec_end = len(lines)
            if sec_end is None:
                lines += ["", "[%s]" % section, "%s = %s" % (key, value)]
            else:
                lines.insert(sec_end, "%s = %s" % (key, value))
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))

    # -- clients -------------------------------------------------------------

    def estctl(self, *args, timeout_s=None, check=False):
        r = subprocess.run([ESTCTL, "-d", self.dir] + list(args), cwd=self.tmp, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout_s or RUN_TIMEOUT_S)
        if check and r.returncode != 0:
            raise AssertionError("estctl %s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def add_client(self, name, role, org=None, groups=None):
        args = ["client", "add", name, "--role", role]
        if org:
            args += ["--org", org]
        if groups:
            args += ["--groups", ",".join(groups)]
        self.estctl(*args, check=True)
        c = Client(self, name, role, org, groups)
        if not os.path.exists(c.secret):
            raise AssertionError("estctl client add did not write %s" % c.secret)
        return c

    def add_standard_clients(self):
        """Three adapters, a Hageby subscriber and an admin, as in the demo."""
        self.muni = self.add_client("kommunen", "adapter", org="municipality")
        self.police = self.add_client("polisen", "adapter", org="police")
        self.housing = self.add_client("hyresbostader", "adapter", org="housing")
        self.hageby = self.add_client("hageby-grupp", "subscriber", groups=["hageby/situational", "hageby/social"])
        self.admin = self.add_client("admin", "admin")

    def uncertified_cert(self, name="stranger"):
        """A well-formed secret certificate the hub has never seen."""
        d = os.path.join(self.tmp, "foreign-" + name)
        os.makedirs(d, exist_ok=True)
        _pub, sec = zmq.auth.create_certificates(d, name)
        os.chmod(sec, 0o600)
        return sec

    # -- hub -----------------------------------------------------------------

    def start(self):
        assert self.hub is None or not self.hub.alive(), "hub already running"
        self._hubs += 1
        self.hub = Hub(self, self._hubs)
        return self.hub

    def stop(self, sig=signal.SIGTERM):
        rc = self.hub.stop(sig)
        return rc

    def kill9(self):
        return self.hub.kill9()

    @property
    def ingest(self):
        return self.hub.ingest

    @property
    def feed(self):
        return self.hub.feed

    def hub_stderr(self, tail=4000):
        """What every hub run of this instance said on stderr, the last tail characters of each
        (all with None)."""
        out = []
        for n in range(1, self._hubs + 1):
            p = os.path.join(self.tmp, "hub-%d.log" % n)
            try:
                with open(p, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                out.append("--- hub run %d ---\n%s" % (n, text[-tail:] if tail else text))
            except OSError:
                pass
        return "\n".join(out)

    # -- client programs -----------------------------------------------------

    def write_jsonl(self, reports, name=None):
        """Writes reports (Report messages or ready JSON strings) to a .jsonl file; returns its path."""
        path = os.path.join(self.tmp, name or "reports-%d.jsonl" % int(time.monotonic() * 1e6))
        with open(path, "w", encoding="utf-8") as f:
            for r in reports:
                f.write((r if isinstance(r, str) else report_json(r)) + "\n")
        return path

    def adapter_argv(self, client, files, outbox=None, json_out=False, timeout_s=None, cert=None, extra=()):
        argv = [EST_ADAPTER, "--hub", self.ingest, "--hub-cert", self.hub_cert,
                "--cert", cert or client.secret, "--format", "json"]
        if outbox:
            argv += ["--outbox", outbox]
        if json_out:
            argv.append("--json")
        if timeout_s is not None:
            argv += ["--timeout", str(timeout_s)]
        return argv + list(extra) + list(files)

    def new_outbox(self):
        self._outboxes = getattr(self, "_outboxes", 0) + 1
        return os.path.join(self.tmp, "outbox-%d.db" % self._outboxes)

    def run_adapter(self, client, files, timeout_s=10, **kw):
        """Runs est-adapter to the end with a fresh outbox (unless outbox= is given), so that
        every run asks the hub; returns CompletedProcess (text)."""
        kw.setdefault("outbox", self.new_outbox())
        argv = self.adapter_argv(client, files, timeout_s=timeout_s, **kw)
        return subprocess.run(argv, cwd=self.tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout_s * SLOW + RUN_TIMEOUT_S)

    def feed_argv(self, client, topics=("*/*",), from_seq=None, state=None, json_out=True,
                  until_head=True, timeout_s=None, cert=None, endpoint=None):
        argv = [EST_FEED, "--hub", endpoint or self.feed, "--hub-cert", self.hub_cert,
                "--cert", cert or client.secret]
        for t in topics:
            argv += ["--topic", t]
        if from_seq is not None:
            argv += ["--from", str(from_seq)]
        if state:
            argv += ["--state", state]
        if json_out:
            argv.append("--json")
        if until_head:
            argv.append("--until-head")
        if timeout_s is not None:
            argv += ["--timeout", str(timeout_s)]
        return argv

    def run_feed(self, client, timeout_s=20, **kw):
        """est-feed --until-head to the end; returns (CompletedProcess, [LogEntry]) (JSON parsed strictly)."""
        argv = self.feed_argv(client, **kw)
        r = subprocess.run(argv, cwd=self.tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout_s * SLOW)
        entries = []
        if kw.get("json_out", True):
            entries = parse_log_entries(r.stdout)
        return r, entries

    def spawn(self, argv, name):
        p = Proc(argv, self.tmp, os.path.join(self.tmp, name + ".stderr"))
        self._procs.append(p)
        return p

    def store_rows(self):
        """[(seq, topic)] of the store, read with SQLite directly: unlike a subscription, reading
        so leaves no audit entry behind (every subscription is audited on all/audit)."""
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.dir, "data", "log.db"), uri=True)
        try:
            return db.execute("SELECT seq, topic FROM entries ORDER BY seq").fetchall()
        finally:
            db.close()

    def read_log(self, client=None, from_seq=1):
        """Every entry from from_seq to the head, read with est-feed as admin ('*/*')."""
        c = client or self.admin
        r, entries = self.run_feed(c, topics=("*/*",), from_seq=from_seq, timeout_s=60)
        if r.returncode != 0:
            raise AssertionError("est-feed --until-head exited %d: %s" % (r.returncode, r.stderr[-2000:]))
        return entries

    # -- raw clients ---------------------------------------------------------

    def raw(self, client=None, cert=None, endpoint=None, opts=None):
        """A RawClient; opts: {zmq option: value} set before it connects."""
        return RawClient(endpoint or self.ingest, self.hub_cert, cert or client.secret, opts)

    def raw_feed(self, client=None, cert=None, endpoint=None):
        return RawFeed(endpoint or self.feed, self.hub_cert, cert or client.secret)

    # -- cleanup -------------------------------------------------------------

    def cleanup(self):
        for p in self._procs:
            p.kill()
        if self.hub is not None and self.hub.alive():
            self.hub.proc.kill()
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def last_data_seq(entries):
    """The seq of the last entry that is not an audit entry or a checkpoint: what "nothing new
    in the log" compares, now that reading the log (a subscription) is itself audited."""
    return max((e.seq for e in entries if e.topic not in ("all/audit", "all/checkpoints")), default=0)


def parse_log_entries(text):
    P = pb()
    jf = json_format()
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        e = P.LogEntry()
        jf.Parse(line, e)  # strict: an unknown field or a bad mapping is an error
        out.append(e)
    return out


ADAPTER_LINE_RE = re.compile(r"^(?P<file>.*):(?P<record>\d+) (?P<source_id>\S+) (?P<revision>\d+|-) "
                             r"(?P<status>accepted|duplicate|rejected|skipped)(?: (?P<rest>.*))?$")


def parse_adapter_lines(text):
    """[(file, record, source_id, revision, status, rest)] from est-adapter's plain output
    (revision -1 for a record that could not be translated: "FILE:RECORD - - rejected ...")."""
    out = []
    for line in text.splitlines():
        m = ADAPTER_LINE_RE.match(line)
        if not m:
            raise AssertionError("est-adapter printed a line not in the contract's form: %r" % line)
        rev = -1 if m["revision"] == "-" else int(m["revision"])
        out.append((m["file"], int(m["record"]), m["source_id"], rev, m["status"], m["rest"] or ""))
    return out


# ---------------------------------------------------------------------------
# Raw CURVE clients.

_ctx = None


def ctx():
    global _ctx
    if _ctx is None:
        _ctx = zmq.Context()
    return _ctx


# A send that finds no peer waits at most this long, then raises zmq.Again (never forever).
SEND_TIMEOUT_MS = int(10000 * SLOW)


def _curve_socket(endpoint, hub_cert, secret_cert, opts=None):
    server_pub, _ = zmq.auth.load_certificate(hub_cert)
    pub, sec = zmq.auth.load_certificate(secret_cert)
    s = ctx().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDTIMEO, SEND_TIMEOUT_MS)
    for opt, value in (opts or {}).items():  # before connecting: a pipe takes them when made
        s.setsockopt(opt, value)
    s.curve_serverkey = server_pub
    s.curve_publickey = pub
    s.curve_secretkey = sec
    s.connect(endpoint)
    return s


def refused_send(send, *args, **kw):
    """send(*args), a RawClient's or RawFeed's method, from a key the hub refuses in the CURVE
    handshake; True when the message was queued. libzmq drops a DEALER's queue to the hub once
    the handshake is refused, so a send that comes after the refusal (a loaded machine delays
    the test's next line) finds no peer: it does not wait (SNDTIMEO 0 for this send) and
    nothing is sent, which is as refused as a message never answered. (A blocking send waited
    there forever; one that waited for the usual timeout let the hub's 10 s window for
    coalescing refusals run out.)"""
    sock = send.__self__.sock
    sock.setsockopt(zmq.SNDTIMEO, 0)
    try:
        send(*args, **kw)
        return True
    except zmq.Again:
        return False
    finally:
        sock.setsockopt(zmq.SNDTIMEO, SEND_TIMEOUT_MS)


class RawClient:
    """A DEALER on the ingest socket: one frame per Envelope, one frame per Ack."""

    def __init__(self, endpoint, hub_cert, secret_cert, opts=None):
        self.sock = _curve_socket(endpoint, hub_cert, secret_cert, opts)
        self._next_id = 1

    def send_bytes(self, data):
        self.sock.send(data)

    def send(self, env):
        self.sock.send(env.SerializeToString())

    def recv_ack(self, timeout_s=5):
        """The next Ack, or None when none arrives within timeout_s."""
        if not self.sock.poll(int(timeout_s * 1000 * SLOW)):
            return None
        a = pb().Ack()
        a.ParseFromString(self.sock.recv())
        return a

    def request(self, reports, timeout_s=5, request_id=None, version=1):
        """Sends one envelope of reports and returns its Ack (AssertionError when none comes)."""
        if request_id is None:
            request_id = self._next_id
            self._next_id += 1
        self.send(envelope(reports, request_id, version))
        return self.expect_ack(request_id, timeout_s)

    def request_bytes(self, data, request_id, timeout_s=5):
        self.send_bytes(data)
        return self.expect_ack(request_id, timeout_s)

    def expect_ack(self, request_id, timeout_s=5):
        deadline = time.monotonic() + timeout_s * SLOW
        while True:
            a = self.recv_ack(max(deadline - time.monotonic(), 0.01) / SLOW)
            if a is None:
                raise AssertionError("no Ack for request %s within %.1f s" % (request_id, timeout_s * SLOW))
            if a.request_id == request_id:
                return a

    def close(self):
        self.sock.close(0)


class RawFeed:
    """A DEALER on the feed socket: FeedRequest frames out, FeedEvent frames in."""

    def __init__(self, endpoint, hub_cert, secret_cert, opts=None):
        self.sock = _curve_socket(endpoint, hub_cert, secret_cert, opts)

    def subscribe(self, topics, from_seq=1, credit=1000):
        P = pb()
        req = P.FeedRequest()
        req.subscribe.topics.extend(topics)
        req.subscribe.from_seq = from_seq
        req.subscribe.credit = credit
        self.sock.send(req.SerializeToString())

    def credit(self, n):
        req = pb().FeedRequest(credit=n)
        self.sock.send(req.SerializeToString())

    def recv(self, timeout_s=5):
        """The next FeedEvent, or None after timeout_s."""
        if not self.sock.poll(int(timeout_s * 1000 * SLOW)):
            return None
        ev = pb().FeedEvent()
        ev.ParseFromString(self.sock.recv())
        return ev

    def status(self, timeout_s=5):
        """Waits for the next FeedStatus (entries before it are returned too): (status, [entries])."""
        entries = []
        deadline = time.monotonic() + timeout_s * SLOW
        while time.monotonic() < deadline:
            ev = self.recv(max(deadline - time.monotonic(), 0.01) / SLOW)
            if ev is None:
                break
            if ev.WhichOneof("body") == "status":
                return ev.status, entries
            entries.append(ev.entry)
        return None, entries

    def entries(self, n, timeout_s=5, skip_audit=False):
        """Collects entries until n have come or timeout_s passes; statuses go to self.statuses.
        skip_audit: entries on all/audit (an admin's own subscriptions among them) are passed
        over and do not count."""
        out = []
        self.statuses = getattr(self, "statuses", [])
        deadline = time.monotonic() + timeout_s * SLOW
        while len(out) < n and time.monotonic() < deadline:
            ev = self.recv(max(deadline - time.monotonic(), 0.01) / SLOW)
            if ev is None:
                break
            if ev.WhichOneof("body") == "entry":
                if not (skip_audit and ev.entry.topic == "all/audit"):
                    out.append(ev.entry)
            else:
                self.statuses.append(ev.status)
        return out

    def close(self):
        self.sock.close(0)


# ---------------------------------------------------------------------------
# Test case base.


def require_programs():
    missing = [p for p in (ESTHUB, ESTCTL, EST_ADAPTER, EST_FEED) if not os.access(p, os.X_OK)]
    if missing:
        raise AssertionError("programs not built: %s (set ESTHUB, ESTCTL, EST_ADAPTER, EST_FEED or "
                             "ESTHUB_BUILD_DIR)" % ", ".join(missing))


class HubTestCase(unittest.TestCase):
    """Each test gets a fresh instance (self.inst) with the standard clients; the hub is stopped
    in cleanup, also when the test fails, and its stderr is printed when it did."""

    fixed_ports = False
    start_hub = True

    def setUp(self):
        require_programs()
        self.inst = Instance(fixed_ports=self.fixed_ports)
        self.addCleanup(self._cleanup)
        self.inst.add_standard_clients()
        self._closables = []
        self.configure(self.inst)
        if self.start_hub:
            self.inst.start()

    def configure(self, inst):
        """Override to edit hub.conf before the hub starts."""

    def closing(self, thing):
        self._closables.append(thing)
        return thing

    def raw(self, client=None, **kw):
        return self.closing(self.inst.raw(client or self.inst.muni, **kw))

    def raw_feed(self, client=None, **kw):
        return self.closing(self.inst.raw_feed(client or self.inst.admin, **kw))

    def _failed(self):
        # Cleanups run after the failure was added to the result (Python 3.11).
        res = getattr(getattr(self, "_outcome", None), "result", None)
        bad = list(getattr(res, "failures", [])) + list(getattr(res, "errors", []))
        return any(t is self for t, _ in bad)

    def _cleanup(self):
        for c in self._closables:
            try:
                c.close()
            except Exception:
                pass
        if self._failed():
            sys.stderr.write("\n[%s] instance %s (%s)\n%s\n" % (
                self.id(), self.inst.dir, "kept" if self.inst.keep else "removed; ESTHUB_IT_KEEP=1 keeps it",
                self.inst.hub_stderr()))
            for p in self.inst._procs:
                sys.stderr.write("--- %s ---\n%s\n" % (" ".join(p.argv[:1]), p.stderr_text()[-2000:]))
        self.inst.cleanup()

    # Assertions shared by several files.

    def assertAccepted(self, ack, n=None):
        P = pb()
        self.assertEqual(ack.error, "", "envelope refused: %s" % ack.error)
        if n is not None:
            self.assertEqual(len(ack.results), n)
        for res in ack.results:
            self.assertEqual(res.status, P.STATUS_ACCEPTED, "%s rejected: %s" % (res.source_id, res.error))
            self.assertGreater(res.seq, 0)

    def reports_in_log(self, entries):
        """{(org, source_id, revision): [entry, ...]} of the report entries."""
        out = {}
        for e in entries:
            if e.WhichOneof("body") == "report":
                out.setdefault((e.org, e.report.source_id, e.report.revision), []).append(e)
        return out

    def assertLogWellFormed(self, entries, head=None):
        seqs = [e.seq for e in entries]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "log seqs must run from 1 without gaps")
        if head is not None:
            self.assertEqual(len(seqs), head)
        for k, es in self.reports_in_log(entries).items():
            self.assertEqual(len(es), 1, "(org, source_id, revision) %r stored %d times" % (k, len(es)))


# ---------------------------------------------------------------------------
# Serving adapters (--watch, --listen) and their inputs: the drop directory and HTTP.

LISTENING_RE = re.compile(r"listening on http://(?P<host>.*):(?P<port>\d+)/")


class ServingAdapter:
    """A running `est-adapter --watch DIR` and/or `--listen HOST:PORT` (Proc in .proc), started
    from options or from a configuration file (config=, with ready= naming what it must say:
    "watching", "listening on"). port is the HTTP port it serves (from its `listening on` line),
    None when it does not listen. wrap: argv put before est-adapter (it must exec it in the end)."""

    def __init__(self, inst, client, name, fmt="json", watch=None, listen=None, outbox=None, extra=(),
                 config=None, ready=None, wrap=()):
        self.inst, self.client, self.name = inst, client, name
        argv = list(wrap) + [EST_ADAPTER]
        if config:
            argv += ["--config", config]
            self.outbox = outbox
        else:
            argv += ["--hub", inst.ingest, "--hub-cert", inst.hub_cert, "--cert", client.secret,
                     "--format", fmt]
            self.outbox = outbox or inst.new_outbox()
        if self.outbox:
            argv += ["--outbox", self.outbox]
        if watch:
            argv += ["--watch", watch]
        if listen:
            argv += ["--listen", listen]
        self.argv = argv + list(extra)
        self.proc = inst.spawn(self.argv, name)
        self.port = None
        if ready is None:
            ready = (["watching"] if watch else []) + (["listening on"] if listen else [])
        wait_until(lambda: all(w in self.proc.stderr_text() for w in ready) or not self.proc.alive(),
                   READY_TIMEOUT_S, what="est-adapter to say %s" % ", ".join(ready))
        if not self.proc.alive():
            raise AssertionError("est-adapter exited %s: %s" % (self.proc.p.poll(), self.proc.stderr_text()[-2000:]))
        m = LISTENING_RE.search(self.proc.stderr_text())
        if m:
            self.port = int(m["port"])

    def outcomes(self):
        """The outcome lines printed so far, parsed (parse_adapter_lines)."""
        return parse_adapter_lines("\n".join(list(self.proc.lines)))

    def stop(self, sig=signal.SIGTERM, timeout_s=None):
        """Sends sig, waits, returns the exit status."""
        self.proc.signal(sig)
        rc = self.proc.wait(timeout_s or 20 * SLOW)
        return rc

    def kill9(self):
        self.proc.signal(signal.SIGKILL)
        return self.proc.wait(10)


def report_lines(reports):
    """Reports as est-adapter's json format takes them: one protobuf JSON object a line."""
    return "".join(report_json(r) + "\n" for r in reports)


def mount_tmpfs(test, inst, path, size):
    """Mounts a tmpfs of size (e.g. "8m") on path, unmounted when inst is cleaned up; skips test
    where mounting is not allowed (not root)."""
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "esthub-it", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        test.skipTest("cannot mount a small tmpfs (needs root and mount rights): %s"
                      % (r.stderr.strip() or r.returncode))
    inst.mounts.append(path)


def fill_filesystem(directory, left_bytes=64 * 1024):
    """Fills the filesystem of directory with a file, to less than left_bytes free (else
    AssertionError); returns the file's path: removing it frees the space again."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 512):
            block = b"\0" * chunk
            while True:
                try:
                    f.write(block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    st = os.statvfs(directory)
    if st.f_bavail * st.f_frsize >= left_bytes:
        raise AssertionError("filesystem of %s not full: %d bytes free" % (directory, st.f_bavail * st.f_frsize))
    return path


POWERCUT_STATS = ("magic", "pid", "writes", "syncs", "written_out", "dirty", "failed_syncs", "lost")


def bench_load_argv(inst, client, args, timeout_s=60):
    """argv of bench-load sending to inst's ingest with client's certificate, then args (the
    load: --senders, --window or --wait, --seconds or --count, ...)."""
    return [BENCH_LOAD, "--hub", inst.ingest, "--hub-cert", inst.hub_cert, "--cert", client.secret,
            "--timeout", str(int(timeout_s * SLOW))] + list(args)


def powercut_wrap(stats_dir, seed, sync_delay_us=300, fail_while=""):
    """argv to put before a program so that its SQLite files see a power cut when it is killed
    (tests/tools/powercut_vfs.c): what it wrote and did not sync is lost with it. Each process
    writes its counters to STATS_DIR/powercut.PID (powercut_stats reads them). fail_while: a
    path; while it exists the disk fails (write-outs do not land, the next sync fails)."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return ["sh", "-c", 'ESTHUB_POWERCUT_STATS="$0/powercut.$$" exec "$@"', stats_dir, "env",
            "LD_PRELOAD=" + POWERCUT, "ESTHUB_POWERCUT_SEED=%d" % seed,
            "ESTHUB_POWERCUT_SYNC_DELAY_US=%d" % sync_delay_us,
            "ESTHUB_POWERCUT_FAIL_WHILE=" + fail_while,
            # The sanitized build's runtime is not first in the library list with a preload.
            "ASAN_OPTIONS=" + ":".join(x for x in (asan, "verify_asan_link_order=0") if x)]


def powercut_stats(stats_dir):
    """{pid: {counter: value}} of every process started with powercut_wrap(stats_dir)."""
    out = {}
    for name in os.listdir(stats_dir):
        if name.startswith("powercut."):
            with open(os.path.join(stats_dir, name), "rb") as f:
                vals = struct.unpack("<8Q", f.read(64))
            if vals[0] == 0x7475637265776f70:
                out[vals[1]] = dict(zip(POWERCUT_STATS, vals))
    return out


def drop_file(directory, name, text):
    """Drops a file as partners should: written under a dotfile name, then renamed into place."""
    tmp = os.path.join(directory, "." + name + ".part")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.rename(tmp, os.path.join(directory, name))
    return os.path.join(directory, name)


def http_request(port, body=None, method="POST", path="/", timeout_s=30, headers=None, host="127.0.0.1"):
    """One HTTP request with http.client; returns (status, {header: value}, body text)."""
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=timeout_s * SLOW)
    try:
        data = body.encode("utf-8") if isinstance(body, str) else body
        c.request(method, path, body=data, headers=headers or {"Content-Type": "application/json"})
        r = c.getresponse()
        text = r.read().decode("utf-8")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, text
    finally:
        c.close()


def log_reports(inst, org=None):
    """{(source_id, revision): [entry, ...]} of the report entries in the whole log (of org, if given)."""
    out = {}
    for e in inst.read_log():
        if e.WhichOneof("body") == "report" and (org is None or e.org == org):
            out.setdefault((e.report.source_id, e.report.revision), []).append(e)
    return out
