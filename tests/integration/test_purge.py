# SPDX-License-Identifier: Apache-2.0
"""Gallring through the real programs (docs/retention.md): a hub with reports_days = 30 takes
reports observed 45 days ago (two revisions of one, another of another category) and one from
an hour ago; a picture of the old week is compiled. `estctl purge --dry-run` lists the old
reports per category with their seqs and changes nothing; `estctl purge` (through the running
hub) removes their bodies; `estctl verify` still exits 0; an admin reading */* from seq 1 no
longer receives them; the picture logged before keeps its counts, a picture compiled after
(and after a restart) no longer counts them; a resent purged report is a DUPLICATE with its
original seq. Without the hub `estctl purge` exits 2 and --dry-run still works; a purge missed
while the hub was down runs at start-up."""

import datetime
import os
import re
import sqlite3
import time
import unittest
import zoneinfo

import harness as h

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def old_week():
    """(week id, a Wednesday noon in it) for the ISO week of 45 days ago, Europe/Stockholm."""
    then = datetime.datetime.fromtimestamp(h.now() - 45 * 86400, STOCKHOLM)
    y, w, _ = then.isocalendar()
    wed = datetime.datetime.combine(datetime.date.fromisocalendar(y, w, 3), datetime.time(12, 0),
                                    tzinfo=STOCKHOLM)
    return "%d-W%02d" % (y, w), int(wed.timestamp())


def picture_reports(p):
    return sum(c.reports for c in p.categories)


class Purge(h.HubTestCase):
    def configure(self, inst):
        inst.conf_set("retention", "reports_days", "30")
        inst.conf_set("pictures", "schedule", "off")
        inst.conf_set("pictures", "live_interval_seconds", "0")
        inst.conf_set("checkpoints", "interval_seconds", "0")

    def push(self, reports, client=None):
        ack = self.raw(client or self.inst.police).request(reports)
        self.assertEqual(ack.error, "")
        return list(ack.results)

    def compile_old(self, week):
        r = self.inst.estctl("picture", "compile", "--area", "hageby", "--week", week)
        self.assertEqual(r.returncode, 0, r.stderr)
        seq = int(re.search(r"seq (\d+)", r.stdout).group(1))
        pics = [e for e in self.inst.read_log(from_seq=seq) if e.WhichOneof("body") == "picture"]
        self.assertEqual(len(pics), 1)
        return pics[0]

    def test_purge(self):
        P = h.pb()
        week, t = old_week()
        a1 = h.report("purge-a", revision=1, observed_at=t, category=P.CATEGORY_GATHERING)
        b = h.report("purge-b", observed_at=t + 600, category=P.CATEGORY_VANDALISM)
        a2 = h.report("purge-a", revision=2, observed_at=t + 60, category=P.CATEGORY_GATHERING,
                      description="Grupp vid entrén, senare lugnt.")
        fresh = h.report("purge-fresh")
        res = self.push([a1, b]) + self.push([a2, fresh])
        for x in res:
            self.assertEqual(x.status, P.STATUS_ACCEPTED, x.error)
        seq_a1, seq_b, seq_a2, seq_fresh = [x.seq for x in res]
        old = {seq_a1, seq_b, seq_a2}
        before = self.compile_old(week)
        self.assertEqual(picture_reports(before.picture), 2)  # purge-a (its revision 2) and purge-b

        # --dry-run: lists per category with seqs, changes nothing, also beside the hub
        r = self.inst.estctl("purge", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("reports/gathering: 2 entries, seq %d, %d\n" % (seq_a1, seq_a2), r.stdout)
        self.assertIn("reports/vandalism: 1 entry, seq %d\n" % seq_b, r.stdout)
        self.assertIn("would purge 3 entries", r.stdout)
        self.assertNotIn("pictures", r.stdout)
        seen = {e.seq for e in self.inst.read_log() if e.WhichOneof("body") == "report"}
        self.assertTrue(old <= seen)
        # --at a year on: the fresh report and the picture would go too
        r = self.inst.estctl("purge", "--dry-run", "--at", time.strftime("%Y-%m-%d", time.gmtime(h.now() + 800 * 86400)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("reports/gathering: 3 entries", r.stdout)
        self.assertIn("pictures: 1 entry, seq %d\n" % before.seq, r.stdout)

        # the purge, through the running hub
        r = self.inst.estctl("purge")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("reports/gathering: 2 entries", r.stdout)
        self.assertIn("reports/vandalism: 1 entry", r.stdout)
        r = self.inst.estctl("verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        entries = self.inst.read_log()
        seqs = {e.seq for e in entries}
        self.assertFalse(old & seqs, "purged entries were still delivered")
        self.assertIn(seq_fresh, seqs)
        kept = [e for e in entries if e.WhichOneof("body") == "picture" and e.seq == before.seq]
        self.assertEqual(len(kept), 1, "the picture logged before the purge is gone")
        self.assertEqual(list(kept[0].picture.categories), list(before.picture.categories))
        self.assertEqual(picture_reports(kept[0].picture), 2)
        # the purge is an audit entry (read from the store: the audit feed is the audit tests' job)
        def audited():
            db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.inst.dir, "data", "log.db"), uri=True)
            try:
                rows = db.execute("SELECT body FROM entries WHERE topic = 'all/audit' AND body IS NOT NULL").fetchall()
            finally:
                db.close()
            out = []
            for (body,) in rows:
                e = P.LogEntry()
                e.ParseFromString(body)
                if e.audit.action == "purge":
                    out.append(e.audit)
            return out
        h.wait_until(lambda: audited(), 10, what="a purge audit entry")
        self.assertEqual(audited()[0].client, "estctl")
        self.assertIn("3 entries purged", audited()[0].detail)
        # a picture compiled now no longer counts them
        self.assertEqual(picture_reports(self.compile_old(week).picture), 0)
        # nothing left to purge; a second purge removes nothing
        r = self.inst.estctl("purge", "--dry-run")
        self.assertIn("nothing has expired", r.stdout)

        # resent: still duplicates of the originals, not stored again
        res = self.push([a1, a2, b])
        self.assertEqual([x.status for x in res], [P.STATUS_DUPLICATE] * 3)
        self.assertEqual([x.seq for x in res], [seq_a1, seq_a2, seq_b])

        # a restart counts what remains only
        self.assertEqual(self.inst.stop(), 0)
        r = self.inst.estctl("purge")
        self.assertEqual(r.returncode, 2)
        self.assertIn("hub not running", r.stderr)
        r = self.inst.estctl("purge", "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.inst.start()
        self.assertEqual(picture_reports(self.compile_old(week).picture), 0)
        r = self.inst.estctl("verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_missed_purge_runs_at_start(self):
        """A purge missed while the hub was down runs before it serves."""
        P = h.pb()
        res = self.push([h.report("purge-late", observed_at=h.now() - 3 * 86400,
                                  category=P.CATEGORY_RUMOUR)])
        self.assertEqual(res[0].status, P.STATUS_ACCEPTED)
        seq = res[0].seq
        # The first start's purge (none had run) found nothing, and says so in words.
        self.assertIn("purge: nothing has passed its retention period", self.inst.hub_stderr())
        self.assertNotIn("0 entries", self.inst.hub_stderr())
        self.assertEqual(self.inst.stop(), 0)
        mark = os.path.join(self.inst.dir, "data", "purged_at")
        self.assertTrue(os.path.exists(mark), "the start-up purge left no record")
        self.inst.conf_set("retention", "report_rumour_days", "2")
        r = self.inst.estctl("purge", "--dry-run")
        self.assertIn("reports/rumour: 1 entry, seq %d" % seq, r.stdout)
        with open(mark, "w") as f:
            f.write("0\n")  # as if the last purge was long ago
        self.inst.start()
        self.assertNotIn(seq, {e.seq for e in self.inst.read_log()})
        self.assertIn("purge: 1 entry purged", self.inst.hub_stderr())
        self.assertEqual(self.inst.estctl("verify").returncode, 0)


if __name__ == "__main__":
    unittest.main()
