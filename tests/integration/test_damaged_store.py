# SPDX-License-Identifier: Apache-2.0
"""A damaged store is never served from: `esthub run` refuses to start and says what is
wrong (exit 2, nothing bound), for every kind of damage open can see cheaply; damage deeper
in the file, which only a full read finds, is named by `estctl verify` (exit 1). Each case
damages its own copy of one populated instance, so the cases are independent."""

import os
import shutil
import sqlite3
import subprocess
import unittest

import harness as h

REPORTS = 300


class DamagedStore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = h.Instance()
        inst = cls.inst
        inst.add_standard_clients()
        inst.start()
        reps = [h.report("dmg-%04d" % i, description="Rapport %d om klotter i trapphus." % i)
                for i in range(REPORTS)]
        r = inst.run_adapter(inst.muni, [inst.write_jsonl(reps)], timeout_s=30)
        assert r.returncode == 0, r.stderr
        assert inst.stop() == 0
        cls.store = os.path.join(inst.dir, "data", "log.db")
        for suffix in ("-wal", "-shm"):
            assert not os.path.exists(cls.store + suffix) or os.path.getsize(cls.store + suffix) == 0 \
                or suffix == "-shm", "the hub left a WAL behind after a clean stop"

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def copy(self, name):
        """A copy of the instance directory with its own store; returns (dir, store path)."""
        d = os.path.join(self.inst.tmp, name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(self.inst.dir, d, symlinks=True,
                        ignore=shutil.ignore_patterns("lock", "control"))
        return d, os.path.join(d, "data", "log.db")

    def run_hub(self, d):
        """esthub run on d, which must refuse: returns its stderr."""
        r = subprocess.run([h.ESTHUB, "run", d], cwd=self.inst.tmp, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30 * h.SLOW)
        self.assertNotIn("esthub: ready", r.stdout, "the hub started on a damaged store")
        self.assertEqual(r.returncode, 2, "exit %d; stderr: %s" % (r.returncode, r.stderr))
        return r.stderr

    def verify(self, d):
        return subprocess.run([h.ESTCTL, "-d", d, "verify"], cwd=self.inst.tmp, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60 * h.SLOW)

    def test_intact_copy_verifies(self):
        """The control case: a plain copy is a healthy store (so the refusals below are the damage's)."""
        d, _ = self.copy("intact")
        r = self.verify(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("log OK", r.stdout)
        # ... and the hub starts on it: the refusals below are the damage's, not the copying's.
        hub = subprocess.Popen([h.ESTHUB, "run", d], cwd=self.inst.tmp, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = hub.stdout.readline()
            self.assertIn("esthub: ready", line, hub.stderr.read() if not line else line)
        finally:
            hub.terminate()
            self.assertEqual(hub.wait(timeout=30 * h.SLOW), 0)
            hub.stdout.close()
            hub.stderr.close()

    def test_header_overwritten(self):
        d, store = self.copy("header")
        with open(store, "r+b") as f:
            f.write(b"this is not a database header")
        err = self.run_hub(d)
        self.assertIn("not an esthub store", err)
        self.assertIn("log.db", err)

    def test_empty_file(self):
        d, store = self.copy("empty")
        open(store, "wb").close()
        self.assertIn("empty file, not an esthub store", self.run_hub(d))

    def test_missing_file(self):
        """Only esthub init makes a store: a missing one is lost, not silently started anew."""
        d, store = self.copy("missing")
        os.unlink(store)
        err = self.run_hub(d)
        self.assertIn("No such file", err)
        self.assertIn("backup", err)
        self.assertFalse(os.path.exists(store), "esthub run made a new, empty store")

    def test_truncated_file(self):
        d, store = self.copy("truncated")
        size = os.path.getsize(store)
        os.truncate(store, size // 3)
        err = self.run_hub(d)
        self.assertRegex(err, r"damaged store|malformed|not an esthub store", err)

    def test_other_application(self):
        d, store = self.copy("other-app")
        db = sqlite3.connect(store)
        db.execute("PRAGMA application_id=12345")
        db.commit()
        db.close()
        self.assertIn("application_id", self.run_hub(d))

    def test_table_missing(self):
        d, store = self.copy("no-table")
        db = sqlite3.connect(store)
        db.execute("DROP TABLE reports")
        db.commit()
        db.close()
        err = self.run_hub(d)
        self.assertRegex(err, r"reports|not an esthub store|damaged", err)

    def test_last_entry_changed(self):
        """The writer is about to extend the chain: its last link must hold."""
        d, store = self.copy("last-link")
        db = sqlite3.connect(store)
        (head,) = db.execute("SELECT max(seq) FROM entries").fetchone()
        db.execute("UPDATE entries SET hash = zeroblob(32) WHERE seq = ?", (head,))
        db.commit()
        db.close()
        err = self.run_hub(d)
        self.assertIn("damaged store", err)
        self.assertIn("estctl verify", err)

    def test_page_in_the_middle(self):
        """Garbage over a page deep in the file: open's test is cheap on purpose and may not see
        it (see open_store in hub/log.c); `estctl verify` reads everything and names it."""
        d, store = self.copy("page")
        size = os.path.getsize(store)
        page = 4096
        with open(store, "r+b") as f:
            f.seek((size // page // 2) * page)
            f.write(os.urandom(page))
        v = self.verify(d)
        self.assertEqual(v.returncode, 1, v.stdout + v.stderr)
        self.assertRegex(v.stdout + v.stderr, r"quick_check|malformed|damaged|seq \d+", v.stdout + v.stderr)


if __name__ == "__main__":
    unittest.main()
