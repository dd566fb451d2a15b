# SPDX-License-Identifier: Apache-2.0
"""estctl against a real instance: client list, status, and verify (which must catch a
changed entry)."""

import sqlite3
import os
import re
import time
import unittest

import harness as h


def find_body_column(db):
    """(table, blob column) where the store keeps entry bodies by seq."""
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            cols = [(r[1], (r[2] or "").upper()) for r in con.execute("PRAGMA table_info(%s)" % t)]
            names = [c for c, _ in cols]
            if "seq" not in names:
                continue
            for c, typ in cols:
                if "BLOB" in typ and "hash" not in c.lower():
                    return t, c
    finally:
        con.close()
    return None, None


class Ctl(h.HubTestCase):
    def push(self, n):
        ack = self.raw().request([h.report() for _ in range(n)])
        self.assertAccepted(ack, n)
        return [r.seq for r in ack.results]

    def test_client_list_names_role_and_org(self):
        r = self.inst.estctl("client", "list", check=True)
        for name, what in (("kommunen", "municipality"), ("polisen", "police"), ("hyresbostader", "housing"),
                           ("hageby-grupp", "subscriber"), ("admin", "admin")):
            lines = [l for l in r.stdout.splitlines() if name in l.split()]
            self.assertEqual(len(lines), 1, "%s in client list:\n%s" % (name, r.stdout))
            self.assertIn(what, lines[0])

    def test_status_with_and_without_hub(self):
        seqs = self.push(4)
        r = self.inst.estctl("status", timeout_s=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(str(seqs[-1]), r.stdout, "status shows the head seq")
        self.assertEqual(self.inst.stop(), 0)
        r = self.inst.estctl("status", timeout_s=30)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("hub not running", r.stderr)

    def test_status_lists_clients_with_when_each_was_last_heard(self):
        self.push(1)
        f = self.raw_feed(self.inst.admin)
        f.subscribe(["*/reports"], from_seq=1)
        st, _ = f.status()
        self.assertTrue(st.ok, st.message)
        time.sleep(1.5)  # nothing from either meanwhile
        self.push(1)  # the sender is heard again, the feed is not
        r = self.inst.estctl("status", timeout_s=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("clients heard from lately: 2", r.stdout)
        heard = {}
        for line in r.stdout.splitlines():
            m = re.match(r"\s+(\S+)\s+(ingest|feed)\s.*heard (\d+)s ago", line)
            if m:
                heard[m[2]] = int(m[3])
        self.assertEqual(set(heard), {"ingest", "feed"}, r.stdout)
        self.assertLess(heard["ingest"], heard["feed"], r.stdout)
        self.assertGreaterEqual(heard["feed"], 1, r.stdout)
        self.assertLess(heard["feed"], 60, r.stdout)

    def test_status_shows_like_connections_once_with_their_number(self):
        self.push(2)
        feeds = [self.raw_feed(self.inst.admin) for _ in range(4)]
        for f in feeds:
            f.subscribe(["hageby/reports"], from_seq=1)
        for f in feeds:
            st, _ = f.status()
            self.assertTrue(st.ok, st.message)
            self.assertEqual(len(f.entries(2)), 2)
        time.sleep(1.2)  # all four served to the head, quiet for the same whole second
        r = self.inst.estctl("status", timeout_s=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("clients heard from lately: 5", r.stdout)
        admin = [l for l in r.stdout.splitlines() if re.match(r"\s+admin\s+feed\s", l)]
        self.assertEqual(len(admin), 1, r.stdout)
        self.assertRegex(admin[0], r"heard \ds ago\s+next seq \d+ \(4 connections\)$")
        sender = [l for l in r.stdout.splitlines() if re.match(r"\s+\S+\s+ingest\s", l)]
        self.assertEqual(len(sender), 1, r.stdout)
        self.assertFalse(sender[0].endswith(" "), "no trailing blanks: %r" % sender[0])
        self.assertNotIn("connections", sender[0])

    def test_status_after_the_hub_was_killed(self):
        """SIGKILL leaves DIR/run/control behind: estctl finds out nothing listens on it."""
        self.push(2)
        self.inst.kill9()
        self.assertTrue(os.path.exists(os.path.join(self.inst.dir, "run", "control")),
                        "a killed hub cannot remove its control socket")
        r = self.inst.estctl("status", timeout_s=30)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("hub not running", r.stderr)
        self.assertIn("left from a hub that did not stop cleanly", r.stderr)
        self.assertIn("2 reports", r.stdout, "the store's figures are there all the same")
        r = self.inst.estctl("picture", "compile", "--week", "2026-W47", timeout_s=30)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("did not stop cleanly", r.stderr)
        self.inst.start()
        r = self.inst.estctl("status", timeout_s=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_verify_ok_with_hub_running_and_stopped(self):
        self.push(5)
        r = self.inst.estctl("verify", timeout_s=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.inst.stop(), 0)
        r = self.inst.estctl("verify", timeout_s=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_verify_catches_a_changed_entry(self):
        seqs = self.push(6)
        self.assertEqual(self.inst.stop(), 0)
        db = os.path.join(self.inst.dir, "data", "log.db")
        self.assertTrue(os.path.exists(db), "the store is DIR/data/log.db")
        table, col = find_body_column(db)
        if table is None:
            self.fail("cannot find the entries' bodies in %s to tamper with" % db)
        target = seqs[2]
        con = sqlite3.connect(db)
        with con:
            (body,) = con.execute("SELECT %s FROM %s WHERE seq = ?" % (col, table), (target,)).fetchone()
            self.assertTrue(body)
            changed = bytearray(body)
            changed[len(changed) // 2] ^= 0x01
            con.execute("UPDATE %s SET %s = ? WHERE seq = ?" % (table, col), (bytes(changed), target))
        con.close()
        r = self.inst.estctl("verify", timeout_s=60)
        self.assertEqual(r.returncode, 1, "verify must fail on a changed body: " + r.stdout + r.stderr)
        self.assertRegex(r.stdout + r.stderr, r"seq %d: \S" % target)


if __name__ == "__main__":
    unittest.main()
