# SPDX-License-Identifier: Apache-2.0
"""A power cut, not only a crash. test_kill9's SIGKILL leaves everything the hub wrote in the
kernel's page cache, which reaches the disk later anyway, so it cannot tell an acknowledgement
given after fdatasync from one given after a mere write. Here the hub (and, in the last test,
est-adapter) runs with tests/tools/powercut_vfs.c preloaded: its SQLite files keep what was
written in the process's own memory until it is synced, writing some pages out early in no
particular order as the kernel does, so a SIGKILL loses what a power cut loses. The same checks
as test_kill9 follow: every acknowledged report in the log exactly once, at the seq its ack
named, with its content, and `estctl verify` holds. scripts/faults.sh runs 50 cuts
(ESTHUB_FAULT_KILLS, ESTHUB_FAULT_ADAPTER_CUTS). A trial build whose WAL was written and never
synced passed test_kill9 and failed here at its first cut; one whose outbox ran with
synchronous=OFF lost every queued record here."""

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import harness as h
import test_kill9 as k9


def stats_dir(inst):
    d = os.path.join(inst.tmp, "powercut")
    os.makedirs(d, exist_ok=True)
    return d


def killed_stats(inst, running_pid):
    """Counters of the processes started with the power cut and gone (all but running_pid)."""
    return [s for pid, s in h.powercut_stats(stats_dir(inst)).items() if pid != running_pid]


def seed_of(tc):
    seed = int(os.environ.get("ESTHUB_IT_SEED", str(int(time.time()))))
    print("%s: power cut seed %d (ESTHUB_IT_SEED to repeat)" % (tc.id(), seed))
    return seed


class Model(unittest.TestCase):
    """The power cut itself, on SQLite alone (Python's sqlite3 module, with it preloaded): what a
    process reads back is what it wrote; a SIGKILL loses every commit not synced and keeps every
    one synced."""

    SCRIPT = textwrap.dedent("""
        import os, signal, sqlite3, sys
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=" + sys.argv[2])
        db.execute("CREATE TABLE t(x)")
        for i in range(200):
            db.execute("INSERT INTO t VALUES (?)", (i,))
        print(db.execute("SELECT count(*) FROM t").fetchone()[0], flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """)

    def rows_after_cut(self, synchronous, writeback, cut=True):
        d = self.enterContext(tempfile.TemporaryDirectory(prefix="esthub-powercut-"))
        path = os.path.join(d, "t.db")
        env = dict(os.environ, ESTHUB_POWERCUT_WRITEBACK=str(writeback))
        wrap = h.powercut_wrap(d, 1) if cut else []
        r = subprocess.run(wrap + [sys.executable, "-c", self.SCRIPT, path, synchronous],
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, -9, r.stderr)
        self.assertEqual(r.stdout.strip(), "200", "the process reads back what it wrote")
        db = sqlite3.connect(path)
        try:
            return db.execute("SELECT count(*) FROM t").fetchone()[0]
        except sqlite3.OperationalError:  # not even the table: nothing was synced
            return None
        finally:
            db.close()

    def test_unsynced_commits_are_lost(self):
        # A plain SIGKILL keeps them: the kernel still has them and writes them out.
        self.assertEqual(self.rows_after_cut("OFF", 0, cut=False), 200)
        self.assertIsNone(self.rows_after_cut("OFF", 0))
        self.assertIsNone(self.rows_after_cut("NORMAL", 0))  # WAL: synced only at a checkpoint

    def test_synced_commits_are_kept(self):
        for writeback in (0, 0.3, 1):
            self.assertEqual(self.rows_after_cut("FULL", writeback), 200, "writeback %s" % writeback)


class FailingDiskModel(unittest.TestCase):
    """The failing disk (ESTHUB_POWERCUT_FAIL_WHILE) on SQLite alone: a commit whose sync fails
    is reported as failed, the next commit once the disk works is synced whole, and a cut
    afterwards keeps every commit whose sync succeeded, the failed one not."""

    SCRIPT = textwrap.dedent("""
        import os, signal, sqlite3, sys
        flag = sys.argv[2]
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("CREATE TABLE t(x)")
        db.execute("INSERT INTO t VALUES (1)")
        open(flag, "w").close()
        try:
            db.execute("INSERT INTO t VALUES (2)")
            print("commit 2 taken", flush=True)
        except sqlite3.OperationalError as e:
            print("commit 2 failed: %s" % e, flush=True)
        os.unlink(flag)
        print(sorted(r[0] for r in db.execute("SELECT x FROM t")), flush=True)
        db.execute("INSERT INTO t VALUES (3)")
        os.kill(os.getpid(), signal.SIGKILL)
        """)

    def test_a_failed_sync_is_reported_and_what_follows_is_kept(self):
        d = self.enterContext(tempfile.TemporaryDirectory(prefix="esthub-failing-"))
        path, flag = os.path.join(d, "t.db"), os.path.join(d, "failing")
        stats = os.path.join(d, "stats")
        os.makedirs(stats)
        for writeback in (0, 0.5):
            for f in os.listdir(d):
                if f.startswith("t.db"):
                    os.unlink(os.path.join(d, f))
            env = dict(os.environ, ESTHUB_POWERCUT_WRITEBACK=str(writeback))
            r = subprocess.run(h.powercut_wrap(stats, 1, fail_while=flag) +
                               [sys.executable, "-c", self.SCRIPT, path, flag],
                               env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, -9, r.stderr)
            self.assertEqual(r.stdout.splitlines(), ["commit 2 failed: disk I/O error", "[1]"],
                             "writeback %s" % writeback)
            db = sqlite3.connect(path)
            try:
                self.assertEqual(sorted(x for (x,) in db.execute("SELECT x FROM t")), [1, 3],
                                 "writeback %s" % writeback)
            finally:
                db.close()
        st = list(h.powercut_stats(stats).values())
        self.assertEqual([s["failed_syncs"] for s in st], [1, 1])


class PowerCut(k9.Kill9):
    """test_kill9's tests with the hub's store under the power cut."""

    def configure(self, inst):
        super().configure(inst)
        inst.hub_wrap = h.powercut_wrap(stats_dir(inst), seed_of(self))

    def test_acknowledged_reports_survive_repeated_kill9(self):
        # A working group's est-feed follows everything through the cuts: what it was sent must
        # have been on disk, or the hub would log other entries under seqs it already printed.
        follower = self.inst.spawn(self.inst.feed_argv(self.inst.admin, topics=("*/*",), from_seq=1,
                                                       until_head=False), "follower")
        super().test_acknowledged_reports_survive_repeated_kill9()
        log = {e.seq: e for e in self.inst.read_log()}
        head = max(log)

        def last_seq():
            lines = list(follower.lines)
            return int(json.loads(lines[-1])["seq"]) if lines else 0

        h.wait_until(lambda: last_seq() >= head or not follower.alive(), 60 * h.SLOW,
                     what=lambda: "the follower to reach seq %d (at %d)" % (head, last_seq()))
        self.assertTrue(follower.alive(), "est-feed stopped: %s" % follower.stderr_text()[-2000:])
        follower.signal(signal.SIGTERM)
        self.assertEqual(follower.wait(20 * h.SLOW), 0, follower.stderr_text()[-2000:])
        seen = [e for e in h.parse_log_entries("\n".join(follower.lines)) if e.seq <= head]
        self.assertEqual([e.seq for e in seen], list(range(1, head + 1)),
                         "the follower saw every entry once, in order, across the cuts")
        for e in seen:
            self.assertEqual(e, log[e.seq], "seq %d: the follower saw another entry than the log holds" % e.seq)
        print("power cut: a follower saw all %d entries as the log holds them" % head)

        gone = killed_stats(self.inst, self.inst.hub.proc.p.pid)
        lossy = [s for s in gone if s["dirty"] > 0]
        print("power cut: %d hubs cut, %d of them holding unsynced pages (%d pages lost in all), "
              "%d syncs and %d pages written out early before the cuts"
              % (len(gone), len(lossy), sum(s["dirty"] for s in gone), sum(s["syncs"] for s in gone),
                 sum(s["written_out"] for s in gone)))
        self.assertEqual(len(gone), k9.KILLS, "every hub cut ran with the power cut preloaded")
        if k9.KILLS >= 20:  # scripts/faults.sh: some cuts must have landed with pages unsynced
            self.assertGreater(len(lossy), 0, "no cut lost anything: the power cut was not exercised")
        # (A hub cut before its senders' resends reached it may have written nothing.)
        self.assertGreater(sum(s["syncs"] for s in gone), 0, "the store went through the power cut")


class PowerCutCommitThread(PowerCut):
    """The same with the committer's thread (limits.commit_thread = on)."""

    def configure(self, inst):
        super().configure(inst)
        inst.conf_set("limits", "commit_thread", "on")


class FailingDisk(h.HubTestCase):
    """The disk under the hub's store fails for a while (tests/tools/powercut_vfs.c's
    ESTHUB_POWERCUT_FAIL_WHILE: write-outs do not land, the next sync of each open file fails,
    and what did not land is lost at a cut unless written again, as Linux does after a failed
    write-back), with three senders keeping envelopes in flight. The hub refuses what it cannot
    make durable ("store unavailable", try again). When a sync of the database file failed, the
    pages a checkpoint copied may never reach the disk although SQLite counts them as copied,
    and a later checkpoint would let the WAL start over without them: the hub then stops (exit
    2, which its systemd unit restarts) before another checkpoint, and the next start copies
    the WAL into the database again. Every round ends with a power cut (unless the hub stopped):
    in the first of each three while the whole disk fails; in the second a while after it works
    again (when the WAL has started over in a hub that went on); in the third only the blocks
    under the database file fail, not the WAL's, so commits go on while checkpoints fail, and
    the cut comes a while after. At the end every acknowledged report is in
    the log once, at the seq its ack named, and `estctl verify` holds. scripts/faults.sh runs
    more rounds (ESTHUB_FAULT_DISK_FAILS)."""

    fixed_ports = True
    ROUNDS = int(os.environ.get("ESTHUB_FAULT_DISK_FAILS", "6"))

    def configure(self, inst):
        self.flag = os.path.join(inst.tmp, "disk-fails")
        inst.hub_wrap = h.powercut_wrap(stats_dir(inst), seed_of(self), fail_while=self.flag)

    def test_the_hub_refuses_while_its_disk_fails_and_loses_nothing_acknowledged(self):
        rng = random.Random(seed_of(self))
        stop_new = threading.Event()
        senders = [k9.Sender(self.inst, c, rng.randrange(1 << 30), stop_new, "disk-%s" % c.name)
                   for c in (self.inst.muni, self.inst.police, self.inst.housing)]
        for s in senders:
            s.start()

        def acked():
            return sum(len(s.acked) for s in senders)

        h.wait_until(lambda: all(s.acked for s in senders), 20 * h.SLOW, what="first acks of every sender")
        stopped = 0
        for rnd in range(self.ROUNDS):
            time.sleep(rng.uniform(0.3, 0.8))
            with open(self.flag, "w") as f:
                f.write("log.db" if rnd % 3 == 2 else "")  # the database file only, or all
            time.sleep(rng.uniform(0.3, 0.8) if rnd % 3 != 2 else rng.uniform(1.0, 2.0))
            if rnd % 3 != 0:  # the disk works again; a while later the power goes
                os.unlink(self.flag)
                time.sleep(rng.uniform(1.0, 2.0))
            # The power goes (the disk still failing in every third round), unless the hub stopped.
            rc = self.inst.kill9()
            self.assertIn(rc, (-signal.SIGKILL, 2), "exit status of a hub whose disk failed")
            stopped += rc == 2
            if os.path.exists(self.flag):
                os.unlink(self.flag)
            self.inst.start()
            before = acked()
            h.wait_until(lambda: acked() > before + 50, 30 * h.SLOW,
                         what=lambda: "reports acknowledged again after round %d (%d)" % (rnd, acked() - before))
        stop_new.set()
        for s in senders:
            s.deadline = time.monotonic() + 60 * h.SLOW
        for s in senders:
            self.assertTrue(s.finished.wait(90 * h.SLOW), "sender %s did not finish" % s.org)
        self.assertTrue(self.inst.hub.alive())
        total = k9.Kill9.check_log(self, senders)

        refused = sum(n for s in senders for why, n in s.refusals.items() if "store unavailable" in why)
        stats = h.powercut_stats(stats_dir(self.inst))
        failed = sum(st["failed_syncs"] for st in stats.values())
        lost = sum(st["lost"] for pid, st in stats.items() if pid != self.inst.hub.proc.p.pid)
        print("failing disk: %d rounds, %d syncs failed, %d envelopes refused for a retry, %d hubs "
              "stopped on a failed sync of the database, %d pages lost with the cuts and stops, %d "
              "reports acknowledged" % (self.ROUNDS, failed, refused, stopped, lost, total))
        self.assertGreater(failed, 0, "no sync failed: the failing disk was not exercised")
        self.assertGreater(refused, 0, "nothing was refused while the disk failed")
        said = self.inst.hub_stderr(tail=None)
        self.assertIn("cannot commit the batch: disk I/O error", said, "the hub says why it refuses")
        # A failed commit is refused and the hub goes on: it stops only for a checkpoint.
        stops = re.findall(r"stopping: the disk under the store failed \(([^)]*)\)", said)
        self.assertGreaterEqual(len(stops), stopped, said[-3000:])  # (a cut may land after the words)
        self.assertEqual([w for w in stops if not w.startswith("a checkpoint")], [])
        if self.ROUNDS >= 3:  # a round with only the database file failing, checkpoints failing
            self.assertGreater(stopped, 0, "no hub stopped after a failed sync of its database file")


class AdapterPowerCut(h.HubTestCase):
    """est-adapter --listen answers 202 once a body is queued in its outbox. Cut its power again
    and again while a partner posts (three requests at a time) with the hub away: everything answered 2xx is delivered,
    once, when the hub is back."""

    fixed_ports = True
    ROUNDS = int(os.environ.get("ESTHUB_FAULT_ADAPTER_CUTS", "6"))

    def test_queued_records_survive_power_cuts_of_the_adapter(self):
        self.cut_rounds()

    def cut_rounds(self, flag=None):
        """ROUNDS adapters cut while three clients post; with flag, the outbox's disk fails for a
        while in each round (the cut then comes while it fails, or in every other round a while
        after it works again). Returns the 503s that said nothing of the body was kept."""
        rng = random.Random(seed_of(self))
        wrap = h.powercut_wrap(stats_dir(self.inst), rng.randrange(1 << 30), fail_while=flag or "")
        outbox = self.inst.new_outbox()
        port = h.free_port()
        self.inst.stop()  # everything the adapter answers stays queued in its outbox
        queued = {}       # (source_id, revision) -> report, answered 2xx
        unanswered = []   # reports of POSTs cut off: sent again in the next round
        made = [0, 0, 0]  # reports made, POSTs answered, 503s for an outbox that failed
        lock = threading.Lock()

        def poster(stop, problems):
            while not stop.is_set():
                with lock:
                    batch = unanswered[:]
                    del unanswered[:]
                    for _ in range(rng.randint(1, 10)):
                        made[0] += 1
                        batch.append(h.report("cut-%05d" % made[0]))
                try:
                    status, _, text = h.http_request(port, h.report_lines(batch), timeout_s=10)
                except OSError:  # cut off mid-request: nothing is known of it
                    with lock:
                        unanswered.extend(batch)
                    continue
                if status == 503:  # the outbox at its cap (--max-pending) or failing: later
                    with lock:
                        unanswered.extend(batch)
                        made[2] += "nothing of the body was kept" in text
                    time.sleep(0.2)
                    continue
                if status not in (200, 202):
                    problems.append("HTTP %d: %s" % (status, text[:300]))
                    return
                with lock:
                    made[1] += 1
                    for r in batch:
                        queued[h.report_key(r)] = r
                time.sleep(0.01)  # a partner's pace, so that 50 rounds stay under the outbox's cap

        for rnd in range(self.ROUNDS):
            a = h.ServingAdapter(self.inst, self.inst.muni, "cut-%d" % rnd, listen="127.0.0.1:%d" % port,
                                 outbox=outbox, extra=["--listen-wait", "0"], wrap=wrap)
            stop, problems = threading.Event(), []
            posters = [threading.Thread(target=poster, args=(stop, problems), daemon=True) for _ in range(3)]
            for t in posters:
                t.start()
            if flag is None:
                time.sleep(rng.uniform(0.3, 1.0))
            else:
                time.sleep(rng.uniform(0.2, 0.5))
                open(flag, "w").close()
                time.sleep(rng.uniform(0.2, 0.6))
                if rnd % 2:
                    os.unlink(flag)
                    time.sleep(rng.uniform(0.2, 0.6))
            a.kill9()
            if flag is not None and os.path.exists(flag):
                os.unlink(flag)
            stop.set()
            for t in posters:
                t.join(30 * h.SLOW)
                self.assertFalse(t.is_alive(), "the posters stop")
            self.assertEqual(problems, [])
        gone = killed_stats(self.inst, None)
        print("adapter power cut: %d cuts, %d POSTs answered, %d reports queued, %d of the cuts holding "
              "unsynced pages (%d pages lost)" % (len(gone), made[1], len(queued),
                                                  sum(1 for s in gone if s["dirty"] > 0),
                                                  sum(s["dirty"] for s in gone)))
        self.assertEqual(len(gone), self.ROUNDS)
        if self.ROUNDS >= 20:  # scripts/faults.sh
            self.assertGreater(sum(1 for s in gone if s["dirty"] > 0), 0,
                               "no cut lost anything: the power cut was not exercised")
        self.assertGreater(len(queued), 100, "enough traffic to mean something")

        self.inst.start()
        a = h.ServingAdapter(self.inst, self.inst.muni, "cut-end", listen="127.0.0.1:%d" % port,
                             outbox=outbox, extra=["--listen-wait", "0"])
        h.wait_until(lambda: set(queued) <= set(h.log_reports(self.inst, "municipality")), 60 * h.SLOW,
                     what=lambda: "every queued report in the log (%d of %d)"
                     % (len(set(queued) & set(h.log_reports(self.inst, "municipality"))), len(queued)))
        self.assertEqual(a.stop(), 0)
        stored = h.log_reports(self.inst, "municipality")
        for key, r in queued.items():
            self.assertEqual(len(stored[key]), 1, "%r stored once" % (key,))
            self.assertEqual(stored[key][0].report, r, "%r: content" % (key,))
        r = self.inst.estctl("verify", timeout_s=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return made[2]


class AdapterFailingDisk(AdapterPowerCut):
    """The same cuts of est-adapter with the disk under its outbox failing for a while in each
    round (powercut_vfs.c's ESTHUB_POWERCUT_FAIL_WHILE, as in FailingDisk): a body the outbox
    could not make durable is answered 503 ("nothing of the body was kept"), and everything
    answered 2xx is delivered once when the hub is back."""

    def test_queued_records_survive_power_cuts_of_the_adapter(self):
        refused = self.cut_rounds(flag=os.path.join(self.inst.tmp, "outbox-disk-fails"))
        failed = sum(st["failed_syncs"] for st in h.powercut_stats(stats_dir(self.inst)).values())
        print("adapter failing disk: %d syncs failed, %d POSTs answered 503 with nothing kept"
              % (failed, refused))
        self.assertGreater(failed, 0, "no sync failed: the failing disk was not exercised")
        self.assertGreater(refused, 0, "no POST was refused while the outbox's disk failed")


FAILSYNC = os.environ.get("ESTHUB_FAILSYNC") or os.path.join(h.BUILD_DIR, "tests", "tools",
                                                             "libesthub-failsync.so")


class FeedFailingDisk(h.HubTestCase):
    """est-feed --state printing to a file whose disk fails (tests/tools/failsync.c preloaded:
    fsync and fdatasync of a file fail with EIO while a flag exists, and work again after, as
    Linux reports a failed write-back once). It stops (exit 2) with its state before the lines
    that may be lost, rather than going on and saving a state past them at the next sync that
    succeeds; the next start prints them again, so the file holds every entry."""

    def test_feed_stops_when_its_output_cannot_be_synced(self):
        tmp = self.inst.tmp
        state, out, flag = (os.path.join(tmp, n) for n in ("feed.state", "entries.jsonl", "feed-disk-fails"))
        first = self.raw().request([h.report() for _ in range(5)])
        self.assertAccepted(first, 5)

        def saved():
            try:
                with open(state, encoding="ascii") as f:
                    return int(f.read())
            except (OSError, ValueError):
                return 0

        asan = os.environ.get("ASAN_OPTIONS", "")
        env = dict(os.environ, LD_PRELOAD=FAILSYNC, ESTHUB_FAILSYNC_WHILE=flag,
                   ASAN_OPTIONS=":".join(x for x in (asan, "verify_asan_link_order=0") if x))
        argv = self.inst.feed_argv(self.inst.admin, topics=("*/reports",), state=state, until_head=False)
        with open(out, "ab") as o, open(os.path.join(tmp, "feed.stderr"), "wb") as e:
            p = subprocess.Popen(argv, cwd=tmp, stdin=subprocess.DEVNULL, stdout=o, stderr=e, env=env)
        try:
            last = max(r.seq for r in first.results)
            h.wait_until(lambda: saved() >= last, 20 * h.SLOW, what="est-feed's first state")
            before = saved()
            open(flag, "w").close()
            second = self.raw().request([h.report() for _ in range(5)])
            self.assertAccepted(second, 5)
            try:
                rc = p.wait(20 * h.SLOW)
            except subprocess.TimeoutExpired:
                os.unlink(flag)  # the disk works again: the old est-feed's next sync succeeds
                time.sleep(3)
                self.fail("est-feed went on after its output could not be synced; its state is now at "
                          "seq %d, past lines the disk may never have got (it was at %d)" % (saved(), before))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        with open(os.path.join(tmp, "feed.stderr"), encoding="utf-8") as f:
            said = f.read()
        self.assertEqual(rc, 2, said)
        self.assertIn("cannot write stdout to disk: Input/output error; stopping with the state at seq %d: "
                      "the next start prints again what came after it" % before, said)
        self.assertEqual(saved(), before, "the state stays before the lines not synced")

        os.unlink(flag)
        with open(out, "ab") as o:
            r = subprocess.run(self.inst.feed_argv(self.inst.admin, topics=("*/reports",), state=state),
                               cwd=tmp, stdin=subprocess.DEVNULL, stdout=o, stderr=subprocess.PIPE,
                               timeout=30 * h.SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, encoding="utf-8") as f:
            seqs = [e.seq for e in h.parse_log_entries(f.read())]
        want = sorted(res.seq for ack in (first, second) for res in ack.results)
        self.assertEqual(sorted(set(seqs)), want, "every report in the file, after the next start")
        self.assertEqual(saved(), want[-1])


STRACE_RE = re.compile(r"^\d+ +(\w+)\((.*)\) += (-?\d+)")


class Syscalls:
    """What `strace -f -e trace=openat,close,fsync,...,rename,...,link` wrote, in order: a
    rename is durable when the file was synced before it and the directory of its new name
    after it (durable.h)."""

    TRACE = ["strace", "-f", "-qq", "-e",
             "trace=openat,close,fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat"]

    def __init__(self, path):
        self.events = []  # ("sync", path), ("rename", from, to) or ("unlink", path), in order
        fds = {1: "<stdout>"}
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = STRACE_RE.match(line)
                if m is None:
                    continue
                call, args, res = m.group(1), m.group(2), int(m.group(3))
                names = re.findall(r'"([^"]*)"', args)
                if call == "openat" and res >= 0 and names:
                    fds[res] = names[0]
                elif call == "close":
                    fds.pop(int(args), None)
                elif call in ("fsync", "fdatasync") and res == 0 and int(args) in fds:
                    self.events.append(("sync", fds[int(args)]))
                elif call.startswith(("rename", "link")) and res == 0 and len(names) == 2:
                    self.events.append(("rename", names[0], names[1]))  # a new name: both alike
                elif call.startswith("unlink") and res == 0 and len(names) == 1:
                    self.events.append(("unlink", names[0]))

    def synced(self, path, after=0):
        """The index of the first sync of path at or after index after, or None."""
        for i in range(after, len(self.events)):
            if self.events[i] == ("sync", path):
                return i
        return None

    def data_synced(self, path):
        """Whether path's data was synced: under its name, or under the name renamed onto it."""
        if self.synced(path) is not None:
            return True
        i, src = self.renamed_to(path)
        return i is not None and self.synced(src) is not None and self.synced(src) < i

    def unlinked(self, path, after=0):
        """The index of the first unlink of path at or after index after, or None."""
        for i in range(after, len(self.events)):
            if self.events[i] == ("unlink", path):
                return i
        return None

    def renamed_to(self, path):
        """(index, from) of the rename onto path, or (None, None)."""
        for i, e in enumerate(self.events):
            if e[0] == "rename" and e[2] == path:
                return i, e[1]
        return None, None


def traced(pid):
    """Whether every thread of pid has a tracer (TracerPid in /proc/PID/task/*/status)."""
    tasks = os.listdir("/proc/%d/task" % pid)
    for t in tasks:
        with open("/proc/%d/task/%s/status" % (pid, t)) as f:
            if re.search(r"^TracerPid:\s+0$", f.read(), re.M):
                return False
    return bool(tasks)


class SyncedFiles(h.HubTestCase):
    """The files outside the store survive a power cut too: what an administrator does to the
    instance and its certificates stays done, and est-feed's output is on disk before its state
    says it was printed. Each file is synced before it takes its name and its directory after,
    seen in the system calls."""

    fixed_ports = True

    def traced(self, argv, stdout=subprocess.PIPE):
        """Runs argv to the end under strace; its Syscalls (it must exit 0)."""
        out = os.path.join(self.inst.tmp, "traced.strace")
        # LeakSanitizer (the sanitized build) cannot run under ptrace.
        env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
        r = subprocess.run(Syscalls.TRACE + ["-o", out] + argv, stdout=stdout, stderr=subprocess.PIPE,
                           text=True, timeout=60 * h.SLOW, env=env, cwd=self.inst.tmp)
        self.assertEqual(r.returncode, 0, "%s: %s" % (argv[0], r.stderr))
        return Syscalls(out)

    def traced_estctl(self, *args):
        return self.traced([h.ESTCTL, "-d", self.inst.dir] + list(args))

    def assertRenamedDurably(self, calls, path):
        i, src = calls.renamed_to(path)
        self.assertIsNotNone(i, "%s renamed into place (%s)" % (path, calls.events))
        self.assertIsNotNone(calls.synced(src), "%s synced before it became %s" % (src, path))
        self.assertLess(calls.synced(src), i)
        self.assertIsNotNone(calls.synced(os.path.dirname(path), i), "%s synced after the rename" %
                             os.path.dirname(path))

    def test_certify_and_rotate_sync_certificates_and_directories(self):
        pub = os.path.join(self.inst.dir, "certs", "nyckelpartner")
        secret = os.path.join(self.inst.dir, "clients", "nyckelpartner_secret")
        calls = self.traced_estctl("client", "add", "nyckelpartner", "--role", "adapter", "--org", "housing")
        self.assertRenamedDurably(calls, pub)
        self.assertIsNotNone(calls.synced(secret), "the secret certificate synced")
        self.assertIsNotNone(calls.synced(os.path.dirname(secret)), "clients/ synced")

        calls = self.traced_estctl("client", "rotate", "nyckelpartner")
        self.assertRenamedDurably(calls, pub)
        self.assertRenamedDurably(calls, secret)

    def test_init_syncs_every_file_and_directory(self):
        d = os.path.join(self.inst.tmp, "new-instance")
        calls = self.traced([h.ESTHUB, "init", d])
        for root, dirs, files in os.walk(d):
            for name in dirs + files:
                path = os.path.join(root, name)
                if name.endswith("-shm"):  # SQLite's index of the WAL: made again at every open
                    continue
                self.assertTrue(calls.data_synced(path), "%s synced" % path)
        for path in (d, os.path.dirname(d)):
            self.assertIsNotNone(calls.synced(path), "%s synced" % path)

    def test_feed_output_is_on_disk_before_its_state(self):
        self.assertAccepted(self.raw().request([h.report() for _ in range(5)]), 5)
        state = os.path.join(self.inst.tmp, "feed.state")
        with open(os.path.join(self.inst.tmp, "entries.jsonl"), "ab") as lines:
            calls = self.traced(self.inst.feed_argv(self.inst.admin, topics=("*/reports",), state=state),
                                stdout=lines)
        with open(os.path.join(self.inst.tmp, "entries.jsonl"), encoding="utf-8") as f:
            self.assertEqual(len(h.parse_log_entries(f.read())), 5, "the five reports printed to the file")
        i, src = calls.renamed_to(state)
        self.assertIsNotNone(i, "the state saved (%s)" % calls.events)
        synced = calls.synced("<stdout>")
        self.assertIsNotNone(synced, "the lines printed to a file were synced")
        self.assertLess(synced, i, "the lines synced before the state passed them")
        self.assertIsNotNone(calls.synced(os.path.dirname(state), i), "the state's directory synced")

    def test_watch_moves_each_file_durably(self):
        """est-adapter --watch: a file whose records are all answered is in done/ (or failed/,
        after its NAME.error) on disk before its name leaves the drop directory, and that is on
        disk too: a cut cannot bring the file back to be read again, nor leave it in failed/
        without its reasons."""
        drop = os.path.join(self.inst.tmp, "drop")
        os.mkdir(drop)
        h.drop_file(drop, "good.jsonl", h.report_lines([h.report() for _ in range(3)]))
        h.drop_file(drop, "bad.jsonl", h.report_lines([h.report()]) + "garbage, not JSON\n")
        out = os.path.join(self.inst.tmp, "adapter.strace")
        # strace started with a program blocks fatal signals: the adapter itself is stopped.
        wrap = ["env", "ASAN_OPTIONS=%s:detect_leaks=0" % os.environ.get("ASAN_OPTIONS", "")]
        a = h.ServingAdapter(self.inst, self.inst.police, "watch-traced", watch=drop,
                             wrap=wrap + Syscalls.TRACE + ["-o", out])
        done = [os.path.join(drop, p) for p in ("done/good.jsonl", "failed/bad.jsonl",
                                                "failed/bad.jsonl.error")]
        h.wait_until(lambda: all(os.path.exists(p) for p in done), 30 * h.SLOW,
                     what="both files moved: %s" % os.listdir(drop))
        strace = a.proc.p.pid
        with open("/proc/%d/task/%d/children" % (strace, strace)) as f:
            os.kill(int(f.read().split()[0]), signal.SIGTERM)
        self.assertEqual(a.proc.wait(20 * h.SLOW), 0, a.proc.stderr_text()[-2000:])
        calls = Syscalls(out)
        for name, sub in (("good.jsonl", "done"), ("bad.jsonl", "failed")):
            i, src = calls.renamed_to(os.path.join(drop, sub, name))
            self.assertEqual(src, os.path.join(drop, name), "%s linked into %s/ (%s)" % (name, sub, calls.events))
            synced = calls.synced(os.path.join(drop, sub), i)
            self.assertIsNotNone(synced, "%s/ synced after %s came in" % (sub, name))
            gone = calls.unlinked(src, i)
            self.assertIsNotNone(gone, "%s left the drop directory" % name)
            self.assertLess(synced, gone, "%s/ synced before %s left the drop directory" % (sub, name))
            self.assertIsNotNone(calls.synced(drop, gone), "the drop directory synced after %s left" % name)
        error = os.path.join(drop, "failed", "bad.jsonl.error")
        self.assertRenamedDurably(calls, error)
        self.assertLess(calls.synced(os.path.join(drop, "failed"), calls.renamed_to(error)[0]),
                        calls.renamed_to(os.path.join(drop, "failed", "bad.jsonl"))[0],
                        "bad.jsonl.error on disk before bad.jsonl came into failed/")

    def test_revocation_syncs_both_directories(self):
        out = os.path.join(self.inst.tmp, "hub.strace")
        st = subprocess.Popen(Syscalls.TRACE + ["-o", out, "-p", str(self.inst.hub.proc.p.pid)],
                              stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            h.wait_until(lambda: traced(self.inst.hub.proc.p.pid), 10 * h.SLOW,
                         what="strace attached to every thread of the hub")
            r = self.inst.estctl("client", "revoke", "hyresbostader")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            st.send_signal(signal.SIGINT)  # detaches; the hub runs on
            st.wait(10 * h.SLOW)
        calls = Syscalls(out)
        revoked = os.path.join(self.inst.dir, "revoked", "hyresbostader")
        self.assertRenamedDurably(calls, revoked)
        i, _ = calls.renamed_to(revoked)
        self.assertIsNotNone(calls.synced(os.path.join(self.inst.dir, "certs"), i),
                             "certs/ synced after the certificate left it")


if __name__ == "__main__":
    unittest.main()
