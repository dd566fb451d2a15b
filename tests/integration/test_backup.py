# SPDX-License-Identifier: Apache-2.0
"""estctl backup and restore against a real hub and its real store. A backup taken while
partners push reports is one consistent snapshot that verifies; restore refuses while the hub
runs, puts the backup back with the hub stopped (keeping the store it replaces), and the hub
starts on it: every report acknowledged up to the backup's head is there with its seq, nothing
after it, and new reports follow on. A copy that is not a store, or whose chain was changed, is
never restored, and the store stays as it was. A working group's est-feed that had entries
past the restored head stops and says so, instead of passing over the seqs the restored log
numbers its next entries with. And the story of a damaged store: the hub refuses to start on
it, the last backup is restored, and it starts."""

import glob
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import unittest

import harness as h

BACKUP_RE = re.compile(r"^backup: (?P<file>\S+) \(.*\), the store through seq (?P<head>\d+);", re.M)


class Backup(h.HubTestCase):
    fixed_ports = True  # a follower reconnects to the restarted hub
    def backup(self, path):
        r = self.inst.estctl("backup", path, timeout_s=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("log OK", r.stdout)
        m = BACKUP_RE.search(r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(m["file"], path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, "a backup is readable by its owner only")
        return int(m["head"])

    def store(self):
        return os.path.join(self.inst.dir, "data", "log.db")

    def test_backup_under_load_then_restore(self):
        P = h.pb()
        acked = []  # (seq, source_id) of every accepted report, in ack order
        stop = threading.Event()
        errors = []

        def push():
            try:
                c = self.raw()
                while not stop.is_set():
                    reps = [h.report(description="Klotter i trapphuset, rapport under säkerhetskopiering.")
                            for _ in range(20)]
                    ack = c.request(reps, timeout_s=10 * h.SLOW)
                    for r, res in zip(reps, ack.results):
                        if res.status == P.STATUS_ACCEPTED:
                            acked.append((res.seq, r.source_id))
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)

        pusher = threading.Thread(target=push)
        pusher.start()
        try:
            h.wait_until(lambda: len(acked) > 500 or errors, 30 * h.SLOW, what="500 reports acknowledged")
            first = os.path.join(self.inst.tmp, "first.db")
            head = self.backup(first)
            h.wait_until(lambda: len(acked) > 1000 or errors, 30 * h.SLOW, what="more reports after the backup")
            # Again over the same name: the new copy replaces the older one only once it verified.
            second = os.path.join(self.inst.tmp, "second.db")
            head2 = self.backup(second)
            self.assertGreaterEqual(head2, head)
        finally:
            stop.set()
            pusher.join(60)
        self.assertEqual(errors, [])
        self.assertFalse(glob.glob(os.path.join(self.inst.tmp, "*.partial-*")), "a partial copy was left")
        self.assertTrue(any(seq > head for seq, _ in acked), "nothing was acknowledged after the backup")

        r = self.inst.estctl("restore", first)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("a hub is running", r.stderr)
        # The same lock keeps a second hub off the instance.
        r = subprocess.run([h.ESTHUB, "run", self.inst.dir], cwd=self.inst.tmp, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30 * h.SLOW)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("run/lock: another esthub is running on this instance", r.stderr)

        # A working group that had everything: one run with a state file, and one following on.
        state = os.path.join(self.inst.tmp, "group.state")
        r, _ = self.inst.run_feed(self.inst.admin, topics=("*/reports",), state=state, json_out=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(state) as f:
            had = int(f.read())
        self.assertGreater(had, head)
        follower = self.inst.spawn(self.inst.feed_argv(self.inst.admin, topics=("*/reports",), from_seq=had,
                                                       json_out=False, until_head=False), "follower")
        h.wait_until(lambda: "subscribed" in follower.stderr_text(), 20 * h.SLOW, what="the follower subscribed")

        self.assertEqual(self.inst.stop(), 0)
        before = self.store() + ".before"
        os.link(self.store(), before)
        r = self.inst.estctl("restore", first)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("restored: %s is now the store, through seq %d" % (first, head), r.stdout)
        kept = glob.glob(self.store() + ".replaced-*")
        self.assertEqual(len([k for k in kept if not k.endswith("-wal")]), 1, kept)
        kept_store = [k for k in kept if not k.endswith("-wal")][0]
        self.assertTrue(os.path.samefile(kept_store, before), "the replaced store is kept as it was")
        self.assertFalse(os.path.exists(os.path.join(self.inst.dir, "data", "purged_at")),
                         "the next start purges what expired since the backup")

        self.inst.start()
        self.assertIn("purge: nothing has passed its retention period", self.inst.hub_stderr())
        # est-feed does not pass over the seqs the restored log will number its next entries with.
        said = re.compile(r"the hub's log ends at seq (\d+), before seq %d, which this feed has had" % had)
        rc = follower.wait(30 * h.SLOW)
        self.assertEqual(rc, 2, follower.stderr_text())
        self.assertRegex(follower.stderr_text(), said)
        r, _ = self.inst.run_feed(self.inst.admin, topics=("*/reports",), state=state, json_out=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        now = int(said.search(r.stderr)[1])
        self.assertTrue(head < now < had, r.stderr)  # the backup's head and what the hub logged since it started
        self.assertIn("run once with --from %d, which resets %s" % (now + 1, state), r.stderr)
        with open(state) as f:
            self.assertEqual(int(f.read()), had, "the state was changed")
        r = self.inst.estctl("verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        # After the backup's head only what the hub logged since it started: the restore in the
        # audit, its signed checkpoint, the audit of the feeds that subscribed, and the pictures
        # of a week whose compile the restored store had not seen (caught up at start; whether
        # that comes depends on the day and on the compile's thread).
        after = [e for e in log if e.seq > head]
        self.assertEqual([e.topic for e in after[:2]], ["all/audit", "all/checkpoints"])
        self.assertEqual(after[0].audit.action, "store_restored")
        self.assertEqual(after[0].audit.client, "estctl")
        self.assertIn("from %s through seq %d; the store it replaced is kept as %s" % (first, head, kept_store),
                      after[0].audit.detail)
        self.assertEqual({e.topic for e in after[2:] if not e.topic.endswith("/pictures")} - {"all/audit"},
                         set())
        self.assertFalse(os.path.exists(os.path.join(self.inst.dir, "data", "restored")), "the note stayed")
        stored = {e.seq: e.report.source_id for e in log if e.WhichOneof("body") == "report"}
        for seq, sid in acked:
            if seq <= head:
                self.assertEqual(stored.get(seq), sid, "seq %d acknowledged before the backup" % seq)
            else:
                self.assertNotIn(sid, stored.values(), "seq %d was logged after the backup" % seq)
        # It goes on from there: a new report gets the next seq.
        ack = self.raw().request([h.report()])
        self.assertEqual(ack.results[0].status, P.STATUS_ACCEPTED)
        self.assertGreater(ack.results[0].seq, log[-1].seq)

    def test_an_adapter_sends_again_what_the_restore_lost(self):
        outbox = self.inst.new_outbox()
        before = [h.report() for _ in range(10)]
        after = [h.report() for _ in range(10)]
        r = self.inst.run_adapter(self.inst.police, [self.inst.write_jsonl(before)], outbox=outbox)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        head = self.backup(os.path.join(self.inst.tmp, "nightly.db"))
        r = self.inst.run_adapter(self.inst.police, [self.inst.write_jsonl(after)], outbox=outbox)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(all(int(l[5]) > head for l in h.parse_adapter_lines(r.stdout)), r.stdout)
        # A partner keeps the checkpoint the hub signs as it starts again (the log grew).
        self.assertEqual(self.inst.stop(), 0)
        self.inst.start()
        r, _ = self.inst.run_feed(self.inst.hageby, topics=("all/checkpoints",), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        saved = os.path.join(self.inst.tmp, "checkpoints.jsonl")
        with open(saved, "w", encoding="utf-8") as f:
            f.write(r.stdout)
        self.assertEqual(self.inst.estctl("verify", "--against", saved).returncode, 0)
        self.assertEqual(self.inst.stop(), 0)
        r = self.inst.estctl("restore", os.path.join(self.inst.tmp, "nightly.db"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.inst.start()

        # Without FILEs: what the outbox holds past the restored head goes again, once.
        r = self.inst.run_adapter(self.inst.police, [], outbox=outbox, extra=["--resend-after", str(head)])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("10 records the hub acknowledged after seq %d sent again" % head, r.stderr)
        lines = h.parse_adapter_lines(r.stdout)
        self.assertEqual(sorted(l[2] for l in lines), sorted(x.source_id for x in after))
        self.assertEqual({l[4] for l in lines}, {"accepted"})
        # Again: the hub has them now, so they are duplicates with the same seqs.
        again = self.inst.run_adapter(self.inst.police, [], outbox=outbox, extra=["--resend-after", str(head)])
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertEqual(sorted((l[2], l[4], l[5]) for l in h.parse_adapter_lines(again.stdout)),
                         sorted((l[2], "duplicate", l[5]) for l in lines))
        stored = [e.report.source_id for e in self.inst.read_log() if e.WhichOneof("body") == "report"]
        self.assertEqual(sorted(stored), sorted(x.source_id for x in before + after), "each report once")
        # The checkpoint the partner kept from before the restore no longer holds, as it should not.
        r = self.inst.estctl("verify", "--against", saved)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"truncated|rewritten")

    def test_what_is_never_restored_or_overwritten(self):
        self.raw().request([h.report() for _ in range(10)])
        good = os.path.join(self.inst.tmp, "good.db")
        self.backup(good)
        # The store itself, or a file of it, is never a backup's name.
        for name in (self.store(), self.store() + "-wal"):
            r = self.inst.estctl("backup", name)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("is the store itself", r.stderr)
        r = self.inst.estctl("backup")
        self.assertEqual(r.returncode, 1)
        self.assertIn("FILE missing", r.stderr)
        for args, says in ((["--keep", "2"], "--keep goes with --into"),
                           (["--into", self.inst.tmp, "--keep", "0"], "not a number of backups"),
                           (["--into", self.inst.tmp, "extra.db"], "unexpected argument")):
            r = self.inst.estctl("backup", *args)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(says, r.stderr, args)
        r = self.inst.estctl("backup", os.path.join(self.inst.tmp, "no-such-dir", "x.db"))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("no-such-dir", r.stderr)

        self.assertEqual(self.inst.stop(), 0)
        with open(self.store(), "rb") as f:
            store_bytes = f.read()

        def refused(path, says):
            r = self.inst.estctl("restore", path)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(says, r.stdout + r.stderr)

        # Not a store at all.
        junk = os.path.join(self.inst.tmp, "junk.db")
        with open(junk, "wb") as f:
            f.write(b"not a database, just text\n" * 100)
        refused(junk, "the store was left as it is")
        # A store with its WAL beside it (another instance's, copied as it ran): not a backup.
        live = shutil.copyfile(good, os.path.join(self.inst.tmp, "live.db"))
        with open(live + "-wal", "wb") as g:
            g.write(b"\0" * 4096)
        refused(live, "has a WAL beside it")
        # A backup whose chain was changed after it was taken.
        changed = shutil.copyfile(good, os.path.join(self.inst.tmp, "changed.db"))
        db = sqlite3.connect(changed)
        (body,) = db.execute("SELECT body FROM entries WHERE seq = 3").fetchone()
        db.execute("UPDATE entries SET body = ? WHERE seq = 3",
                   (body.replace(b"Grupp", b"Gripp", 1),))
        db.commit()
        db.close()
        refused(changed, "seq 3")
        with open(self.store(), "rb") as f:
            self.assertEqual(f.read(), store_bytes, "the store was changed by a refused restore")
        self.assertEqual(glob.glob(self.store() + ".*"), [], "a refused restore left files beside the store")

    def test_a_damaged_store_comes_back_from_its_backup(self):
        self.raw().request([h.report() for _ in range(30)])
        backup = os.path.join(self.inst.tmp, "nightly.db")
        head = self.backup(backup)
        self.assertEqual(self.inst.stop(), 0)
        with open(self.store(), "r+b") as f:
            f.write(b"this is not a database header")
        r = subprocess.run([h.ESTHUB, "run", self.inst.dir], cwd=self.inst.tmp, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30 * h.SLOW)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not an esthub store", r.stderr)
        r = self.inst.estctl("restore", backup)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.inst.start()
        r = self.inst.estctl("verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        log = self.inst.read_log()
        self.assertEqual(len([e for e in log if e.WhichOneof("body") == "report"]), 30)
        self.assertEqual([e.topic for e in log if e.seq > head], ["all/audit", "all/checkpoints"])


class StoppedBackup(h.HubTestCase):
    start_hub = False

    def setUp(self):
        super().setUp()
        store = os.path.join(self.inst.dir, "data", "log.db")
        os.unlink(store)  # bench-mklog makes a store of its own, large enough to take a while
        subprocess.run([os.path.join(h.BUILD_DIR, "bench", "bench-mklog"), "--store", store, "--count",
                        "200000", "--days", "30"], check=True, capture_output=True, timeout=300)

    def stop_midway(self, target, sig):
        """Starts `estctl backup target`, sends sig once its partial copy exists; the exit status."""
        partial = lambda: glob.glob(target + ".partial-*")  # noqa: E731
        p = subprocess.Popen([h.ESTCTL, "-d", self.inst.dir, "backup", target], cwd=self.inst.tmp,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            h.wait_until(lambda: partial() or p.poll() is not None, 60 * h.SLOW, interval_s=0.002,
                         what="the copy to start")
            self.assertIsNone(p.poll(), "the backup ended before it could be stopped")
            p.send_signal(sig)
            return p.wait(60)
        finally:
            if p.poll() is None:
                p.kill()
            p.communicate()

    def test_a_backup_stopped_midway_leaves_nothing(self):
        """SIGTERM while the copy is being made: no partial file, no FILE, the store untouched."""
        target = os.path.join(self.inst.tmp, "stopped.db")
        self.assertEqual(self.stop_midway(target, signal.SIGTERM), -signal.SIGTERM)
        self.assertEqual(glob.glob(target + ".partial-*"), [], "the stopped copy was left")
        self.assertFalse(os.path.exists(target))
        r = self.inst.estctl("verify", timeout_s=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_the_next_backup_removes_what_a_killed_one_left(self):
        """SIGKILL (or a power cut) leaves the half-made copy; the next backup to that name or
        into that directory removes it and says so, but not one a running process is making."""
        target = os.path.join(self.inst.tmp, "killed.db")
        self.assertEqual(self.stop_midway(target, signal.SIGKILL), -signal.SIGKILL)
        left = glob.glob(target + ".partial-*")
        self.assertEqual(len(left), 1, "no handler runs on SIGKILL: the copy stays")
        busy = "%s.partial-%d" % (target, os.getpid())  # a running process's, as another backup's
        open(busy, "wb").close()
        r = self.inst.estctl("backup", target, timeout_s=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("removed %s, a copy left half-made by a backup that was stopped" % left[0], r.stdout)
        self.assertEqual(glob.glob(target + ".partial-*"), [busy])
        self.assertTrue(os.path.exists(target))

        into = os.path.join(self.inst.tmp, "nightly")
        os.mkdir(into)
        dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True).stdout.strip()
        stale = os.path.join(into, "esthub-20260101T031500.db.partial-%s" % dead)
        other = os.path.join(into, "notes.partial-%s" % dead)  # not a backup's: not ours to remove
        for f in (stale, other):
            open(f, "wb").close()
        r = self.inst.estctl("backup", "--into", into, "--keep", "2", timeout_s=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("removed %s" % stale, r.stdout)
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(other))


if __name__ == "__main__":
    unittest.main()
