# SPDX-License-Identifier: Apache-2.0
"""Tamper evidence, tried the way an insider would: with the hub stopped, rows of the SQLite
store are changed, deleted, reordered, cut off or rewritten with freshly computed hashes, each
in its own copy of one populated instance, and `estctl verify` (with `--against` a partner's
saved checkpoints) must exit 1 and name the seq. Also: `esthub run` refuses secret keys that
group or others may read, and `est-feed --sign-key` with another key shows no picture."""

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import harness as h

REPORTS = 12


def chain(prev, seq, body_sha):
    return hashlib.sha256(prev + seq.to_bytes(8, "big") + body_sha).digest()


class Tamper(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_programs()
        cls.inst = h.Instance()
        inst = cls.inst
        inst.add_standard_clients()
        inst.conf_set("checkpoints", "interval_seconds", "1")
        inst.start()
        try:
            cls._populate(inst)
        except Exception:
            inst.cleanup()
            raise

    @classmethod
    def _populate(cls, inst):
        raw = inst.raw(inst.muni)
        for batch in range(2):
            ack = raw.request([h.report() for _ in range(REPORTS // 2)])
            assert ack.error == "" and all(r.seq > 0 for r in ack.results), ack
            # Wait for the checkpoint of this batch, so the log has several.
            last = ack.results[-1].seq
            h.wait_until(lambda: any(e.checkpoint.size >= last for e in inst.read_log()
                                     if e.WhichOneof("body") == "checkpoint"),
                         10 * h.SLOW, interval_s=0.3, what="checkpoint of seq %d" % last)
        raw.close()
        # A partner keeps the checkpoints as they come (est-feed --json >> checkpoints.jsonl).
        r, _ = inst.run_feed(inst.hageby, topics=("all/checkpoints",), from_seq=1)
        assert r.returncode == 0, r.stderr
        cls.saved = os.path.join(inst.tmp, "checkpoints.jsonl")
        with open(cls.saved, "w", encoding="utf-8") as f:
            f.write(r.stdout)
        cls.saved_cps = [e.checkpoint for e in h.parse_log_entries(r.stdout)]
        assert len(cls.saved_cps) >= 2, r.stdout
        assert inst.stop() == 0
        cls.store = os.path.join(inst.dir, "data", "log.db")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def copy(self, name):
        """A copy of the instance directory; returns (dir, store path)."""
        d = os.path.join(self.inst.tmp, name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(self.inst.dir, d, symlinks=True, ignore=shutil.ignore_patterns("lock", "control"))
        return d, os.path.join(d, "data", "log.db")

    def verify(self, d, *extra):
        return subprocess.run([h.ESTCTL, "-d", d, "verify"] + list(extra), cwd=self.inst.tmp,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60 * h.SLOW)

    def assertNames(self, r, seq, pattern=""):
        self.assertEqual(r.returncode, 1, "verify must fail: " + r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^seq %d[: ].*%s" % (seq, pattern), r.stdout + r.stderr)

    def report_seqs(self, db):
        """Seqs of report entries (their bodies start with seq and carry a description)."""
        P = h.pb()
        out = []
        for seq, body in db.execute("SELECT seq, body FROM entries ORDER BY seq"):
            e = P.LogEntry()
            e.ParseFromString(body)
            if e.WhichOneof("body") == "report":
                out.append(seq)
        return out

    # -- the chain ---------------------------------------------------------------

    def test_control_copy_verifies(self):
        d, _ = self.copy("intact")
        r = self.verify(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"checkpoints OK: \d+ signed")
        r = self.verify(d, "--against", self.saved)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_changed_body_is_named(self):
        d, store = self.copy("changed")
        db = sqlite3.connect(store)
        target = self.report_seqs(db)[3]
        (body,) = db.execute("SELECT body FROM entries WHERE seq = ?", (target,)).fetchone()
        changed = body.replace("oro".encode(), "ro!".encode())
        self.assertNotEqual(changed, body)
        db.execute("UPDATE entries SET body = ? WHERE seq = ?", (changed, target))
        db.commit()
        db.close()
        self.assertNames(self.verify(d), target, r"changed, removed or reordered")

    def test_deleted_row_is_named(self):
        d, store = self.copy("deleted")
        db = sqlite3.connect(store)
        target = self.report_seqs(db)[4]
        db.execute("DELETE FROM entries WHERE seq = ?", (target,))
        db.commit()
        db.close()
        self.assertNames(self.verify(d), target)

    def test_swapped_bodies_are_named(self):
        d, store = self.copy("swapped")
        db = sqlite3.connect(store)
        a, b = self.report_seqs(db)[1:3]
        rows = {s: db.execute("SELECT body, body_sha FROM entries WHERE seq = ?", (s,)).fetchone()
                for s in (a, b)}
        for s, o in ((a, b), (b, a)):
            db.execute("UPDATE entries SET body = ?, body_sha = ? WHERE seq = ?", (rows[o][0], rows[o][1], s))
        db.commit()
        db.close()
        self.assertNames(self.verify(d), a)

    # -- what only checkpoints catch ----------------------------------------------

    def rewrite_from(self, db, first, change):
        """Applies change(seq, LogEntry) to every entry from seq first and recomputes every
        body_sha and chain hash from there: a chain with no key holds again afterwards."""
        P = h.pb()
        (prev,) = db.execute("SELECT hash FROM entries WHERE seq = ?", (first - 1,)).fetchone()
        rows = db.execute("SELECT seq, body FROM entries WHERE seq >= ? ORDER BY seq", (first,)).fetchall()
        for seq, body in rows:
            e = P.LogEntry()
            e.ParseFromString(body)
            change(seq, e)
            body = e.SerializeToString()
            sha = hashlib.sha256(body).digest()
            prev = chain(prev, seq, sha)
            db.execute("UPDATE entries SET body = ?, body_sha = ?, hash = ? WHERE seq = ?", (body, sha, prev, seq))
        db.commit()

    def test_rewritten_tail_is_caught_by_checkpoints(self):
        d, store = self.copy("rewritten")
        db = sqlite3.connect(store)
        target = self.report_seqs(db)[2]

        def change(seq, e):
            if seq == target:
                e.report.description = "Lugnt, inget att rapportera."
        self.rewrite_from(db, target, change)
        (first_cp,) = db.execute("SELECT min(seq) FROM entries WHERE topic = 'all/checkpoints' AND seq > ?",
                                 (target,)).fetchone()
        db.close()
        # The chain alone holds again; the first checkpoint after the change does not.
        r = self.verify(d)
        self.assertNames(r, first_cp, r"checkpoint's head_hash differs")
        # A partner's saved checkpoint says the log was rewritten.
        r = self.verify(d, "--against", self.saved)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"checkpoints\.jsonl:\d+: seq \d+'s hash differs from the checkpoint's: "
                                   r"the log was rewritten")

    def test_forged_checkpoint_signature_is_named(self):
        d, store = self.copy("forged")
        db = sqlite3.connect(store)
        (cp,) = db.execute("SELECT min(seq) FROM entries WHERE topic = 'all/checkpoints'").fetchone()

        def change(seq, e):
            if seq == cp:
                e.checkpoint.time += 3600  # anything: the signature covers all of it
        self.rewrite_from(db, cp, change)
        db.close()
        self.assertNames(self.verify(d), cp, r"checkpoint signature does not verify")

    def test_truncation_after_a_saved_checkpoint(self):
        d, store = self.copy("truncated")
        last = max(c.size for c in self.saved_cps)
        keep = last - 3
        db = sqlite3.connect(store)
        db.execute("DELETE FROM entries WHERE seq > ?", (keep,))
        db.commit()
        db.close()
        # The shorter chain is a valid chain of its own: only the saved checkpoint shows the cut.
        r = self.verify(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.verify(d, "--against", self.saved)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"log ends at seq %d, before the checkpoint's size \d+: truncated" % keep)

    def test_saved_checkpoint_from_another_key_is_refused(self):
        d, _ = self.copy("other-key")
        key = Ed25519PrivateKey.generate().public_key()
        with open(os.path.join(d, "keys", "sign.pem"), "wb") as f:
            f.write(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        r = self.verify(d, "--against", self.saved)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("signature does not verify", r.stdout + r.stderr)

    # -- secret keys ----------------------------------------------------------------

    def run_refuses(self, rel):
        d, _ = self.copy("mode-" + os.path.basename(rel))
        path = os.path.join(d, rel)
        os.chmod(path, 0o644)
        r = subprocess.run([h.ESTHUB, "run", d], cwd=self.inst.tmp, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30 * h.SLOW)
        self.assertNotIn("esthub: ready", r.stdout, "the hub started with a readable secret key")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(path, r.stderr)
        self.assertIn("chmod 600", r.stderr)
        r = subprocess.run([h.ESTHUB, "check", d], capture_output=True, text=True, timeout=30 * h.SLOW)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(path, r.stdout + r.stderr)

    def test_world_readable_hub_secret_refused(self):
        self.run_refuses(os.path.join("keys", "hub_secret"))

    def test_world_readable_sign_secret_refused(self):
        self.run_refuses(os.path.join("keys", "sign_secret.pem"))


class ForeignSignKey(h.HubTestCase):
    def configure(self, inst):
        inst.conf_set("checkpoints", "interval_seconds", "1")

    def test_est_feed_with_another_key_shows_no_picture(self):
        self.assertAccepted(self.raw().request([h.report() for _ in range(3)]), 3)
        self.inst.estctl("picture", "compile", "--area", "hageby", check=True)
        other = os.path.join(self.inst.tmp, "other.pem")
        key = Ed25519PrivateKey.generate().public_key()
        with open(other, "wb") as f:
            f.write(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        argv = self.inst.feed_argv(self.inst.hageby, topics=("*/pictures", "hageby/reports"), from_seq=1,
                                   until_head=True) + ["--sign-key", other]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60 * h.SLOW)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        shown = h.parse_log_entries(r.stdout)
        self.assertEqual([e for e in shown if e.WhichOneof("body") == "picture"], [], "a picture was shown")
        self.assertEqual(len([e for e in shown if e.WhichOneof("body") == "report"]), 3,
                         "unsigned kinds are shown as before")
        self.assertRegex(r.stderr, r"seq \d+: picture signature does not verify with %s; not shown"
                         % re.escape(other))
        # The right key shows it and exits 0.
        argv[-1] = os.path.join(self.inst.dir, "keys", "sign.pem")
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60 * h.SLOW)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len([e for e in h.parse_log_entries(r.stdout) if e.WhichOneof("body") == "picture"]), 1)
        # A file that is no public key: an environment error before anything is shown.
        argv[-1] = os.path.join(self.inst.dir, "keys", "hub")
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60 * h.SLOW)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("not a PEM public key", r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
