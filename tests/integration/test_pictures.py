# SPDX-License-Identifier: Apache-2.0
"""Situational pictures through the real programs: `estctl picture compile` makes the running
hub compile the week's pictures from the log, append them on AREA/pictures and publish them;
working groups read their own area's picture and the overview, and compiling twice over the
same log gives the same content."""

import datetime
import os
import re
import subprocess
import time
import unittest
import zoneinfo

import harness as h

AREAS = ("marielund", "hageby", "navestad", "klockaretorpet", "city")


class Pictures(h.HubTestCase):
    def push_sample_week(self):
        clients = {"municipality.jsonl": self.inst.muni, "police.jsonl": self.inst.police,
                   "housing.jsonl": self.inst.housing}
        for path in h.SAMPLE_FILES:
            r = self.inst.run_adapter(clients[os.path.basename(path)], [path], timeout_s=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def pictures(self, log):
        return [e for e in log if e.WhichOneof("body") == "picture"]

    def test_compile_logs_and_publishes_one_picture_per_area_and_the_overview(self):
        self.push_sample_week()
        head = self.inst.read_log()[-1].seq
        r = self.inst.estctl("picture", "compile", "--week", "2026-W47")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("compiled 6 pictures of 2026-W47", r.stdout)

        log = self.inst.read_log(from_seq=head + 1)
        pics = self.pictures(log)
        self.assertEqual(sorted(p.picture.area for p in pics), sorted(AREAS + ("all",)))
        P = h.pb()
        for e in pics:
            pic = e.picture
            self.assertEqual(e.topic, pic.area + "/pictures")
            self.assertEqual(e.org, "esthub")
            self.assertEqual(pic.week, "2026-W47")
            self.assertEqual(pic.through_seq, head)
        by_area = {e.picture.area: e.picture for e in pics}
        # Counts agree with the reports in the log: current, not withdrawn, of the week.
        reports = [e.report for e in self.inst.read_log() if e.WhichOneof("body") == "report"]
        latest = {}
        for rep in reports:
            key = (rep.source_id,)
            if key not in latest or rep.revision >= latest[key].revision:
                latest[key] = rep
        for area in AREAS:
            want = sum(1 for rep in latest.values() if rep.area == area and not rep.withdrawn
                       and 1794783600 <= rep.observed_at < 1795388400)
            got = sum(c.reports for c in by_area[area].categories)
            self.assertEqual(got, want, area)
        ranks = sorted(by_area[a].rank for a in AREAS)
        self.assertEqual(ranks[0], 1)
        self.assertEqual(by_area["all"].rank, 0)
        # The highest score has rank 1.
        best = max(AREAS, key=lambda a: by_area[a].priority_score)
        self.assertEqual(by_area[best].rank, 1)
        self.assertGreater(len(by_area["hageby"].hotspots), 0)

    def test_working_group_reads_its_area_and_the_overview_only(self):
        self.push_sample_week()
        self.inst.estctl("picture", "compile", "--week", "2026-W47", check=True)
        r, entries = self.inst.run_feed(self.inst.hageby, topics=("*/pictures",), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(e.topic for e in entries), ["all/pictures", "hageby/pictures"])

    def test_compiling_twice_gives_the_same_content(self):
        self.push_sample_week()
        self.inst.estctl("picture", "compile", "--week", "2026-W47", "--area", "hageby", check=True)
        self.inst.estctl("picture", "compile", "--week", "2026-W47", "--area", "hageby", check=True)
        pics = [e.picture for e in self.pictures(self.inst.read_log())]
        self.assertEqual(len(pics), 2)
        for p in pics:
            p.generated_at = 0
            p.ClearField("signature")
        self.assertEqual(pics[0].SerializeToString(), pics[1].SerializeToString())

    def test_a_week_before_the_stores_horizon_is_read_back_from_the_log(self):
        """The hub holds the reports of the last 15 weeks in memory. A week 30 weeks back is read
        back from the log and counted as every other: revisions that moved a report out of it or
        withdrew it are seen, and a restarted hub (which loads only the recent weeks) compiles the
        same picture."""
        P = h.pb()
        stockholm = zoneinfo.ZoneInfo("Europe/Stockholm")
        day = datetime.datetime.fromtimestamp(h.now() - 30 * 7 * 86400, stockholm)
        wednesday = (day - datetime.timedelta(days=day.weekday() - 2)).replace(hour=12, minute=0)
        iso = wednesday.isocalendar()
        week = "%d-W%02d" % (iso[0], iso[1])
        t = int(wednesday.timestamp())
        c = self.raw()
        ids = ["old-%d" % i for i in range(4)]
        first = [h.report(i, observed_at=t + k * 3600, category=P.CATEGORY_GATHERING,
                          position=(58.5700, 16.2100 + k * 0.01)) for k, i in enumerate(ids)]
        self.assertEqual([x.status for x in c.request(first).results], [P.STATUS_ACCEPTED] * 4)
        moved = h.report(ids[2], revision=1, observed_at=h.now() - 3600, category=P.CATEGORY_GATHERING)
        gone = h.report(ids[3], revision=1, observed_at=t, category=P.CATEGORY_GATHERING, withdrawn=True)
        self.assertEqual([x.status for x in c.request([moved, gone]).results], [P.STATUS_ACCEPTED] * 2)

        def hageby_picture():
            r = self.inst.estctl("picture", "compile", "--week", week, "--area", "hageby")
            self.assertEqual(r.returncode, 0, r.stderr)
            pic = self.pictures(self.inst.read_log())[-1].picture
            self.assertEqual((pic.area, pic.week), ("hageby", week))
            pic.generated_at = 0
            pic.through_seq = 0
            pic.ClearField("signature")
            return pic

        before = hageby_picture()
        self.assertEqual([(k.category, k.reports) for k in before.categories],
                         [(P.CATEGORY_GATHERING, 2)])
        self.inst.stop()
        self.inst.start()
        self.assertEqual(hageby_picture().SerializeToString(), before.SerializeToString())

    def test_acks_keep_coming_while_a_compile_runs(self):
        """A compile merges on its own thread: over a flood of 21,000 reports at one place it takes
        a tenth of a second or more, and reports sent one at a time meanwhile are acknowledged as usual
        instead of all at once after it (the hub's loop only takes the snapshot)."""
        # Three organisations: reports of one are never compared with each other.
        senders = [self.raw(x) for x in (self.inst.muni, self.inst.police, self.inst.housing)]
        for i in range(21):
            self.assertAccepted(senders[i % 3].request([h.report() for _ in range(1000)], timeout_s=30), 1000)
        c = senders[0]
        ctl = subprocess.Popen([h.ESTCTL, "-d", self.inst.dir, "picture", "compile"], cwd=self.inst.tmp,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        gaps, last = [], time.monotonic()
        while ctl.poll() is None:
            self.assertAccepted(c.request([h.report()], timeout_s=30), 1)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        out, err = ctl.communicate(timeout=h.RUN_TIMEOUT_S)
        self.assertEqual(ctl.returncode, 0, err)
        self.assertIn("compiled 6 pictures", out)
        m = re.findall(r"compiled 6 pictures .*\(snapshot (\d+) ms, compile (\d+) ms on its thread\)",
                       self.inst.hub_stderr())
        self.assertTrue(m, "the hub says how long the compile took")
        snapshot_ms, compile_ms = int(m[-1][0]), int(m[-1][1])
        # The merge stops at 50 million pairs, fixed work that takes 0.1 to 0.2 s on the machines
        # seen (98 ms on one CI run). What the test needs is a compile several times longer than
        # an ack's usual gap (a few ms), so that an ack held for the whole compile would stand out.
        self.assertGreaterEqual(compile_ms, 40, "the flood kept the compile busy too briefly to tell")
        # Before the compile had a thread, the ack of the envelope sent as it began waited for all
        # of it (seen here: 19 acks while estctl waited, one after 136 ms; with the thread: 330, at
        # most 8 ms apart).
        self.assertGreater(len(gaps), 10, "acks came while estctl waited")
        self.assertLess(max(gaps) * 1000, compile_ms / 2,
                        "an ack waited %.0f ms during a compile of %d ms (snapshot %d ms)"
                        % (max(gaps) * 1000, compile_ms, snapshot_ms))

    def test_bad_requests_are_refused_clearly(self):
        r = self.inst.estctl("picture", "compile", "--week", "2026-W99")
        self.assertEqual(r.returncode, 1)
        self.assertIn("week", r.stderr)
        r = self.inst.estctl("picture", "compile", "--area", "gotham")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown area", r.stderr)

    def test_without_a_hub_estctl_says_so(self):
        self.inst.stop()
        r = self.inst.estctl("picture", "compile")
        self.assertEqual(r.returncode, 2)
        self.assertIn("hub not running", r.stderr)


if __name__ == "__main__":
    unittest.main()
