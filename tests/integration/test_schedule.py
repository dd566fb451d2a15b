# SPDX-License-Identifier: Apache-2.0
"""When pictures are made, through a real hub: the weekly schedule fires and compiles the week
that ended (every area and all) once, a hub that was down at the scheduled time does it at
start-up unless the log already has it, the live picture of the current week follows new reports
at most every live_interval_seconds, and `esthub check` points at bad [pictures]/[merge] values.
`schedule = every Ns` is the documented test knob (docs/pictures.md)."""

import datetime
import re
import subprocess
import time
import unittest
import zoneinfo

import harness as h

AREAS = ("marielund", "hageby", "navestad", "klockaretorpet", "city")
WEEK = 7 * 86400


def into_week_s():
    """Seconds since Monday 00:00 in Stockholm (local clock time, as the schedule reads it)."""
    local = datetime.datetime.fromtimestamp(h.now(), zoneinfo.ZoneInfo("Europe/Stockholm"))
    return local.weekday() * 86400 + local.hour * 3600 + local.minute * 60 + local.second


def run(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=h.RUN_TIMEOUT_S)


class ScheduleBase(h.HubTestCase):
    schedule = "off"
    live = "0"

    def configure(self, inst):
        inst.conf_set("pictures", "schedule", self.schedule)
        inst.conf_set("pictures", "live_interval_seconds", self.live)

    def push(self, observed_at, n=3, area="hageby"):
        raw = self.raw(self.inst.police)
        reps = [h.report(observed_at=observed_at + i, area=area) for i in range(n)]
        ack = raw.request(reps)
        seqs = [r.seq for r in ack.results]
        self.assertTrue(all(s > 0 for s in seqs), ack)
        return max(seqs)

    def pictures(self):
        return [e for e in self.inst.read_log() if e.WhichOneof("body") == "picture"]

    def wait_pictures(self, n, timeout_s):
        return h.wait_until(lambda: (lambda p: p if len(p) >= n else None)(self.pictures()),
                            timeout_s * h.SLOW, interval_s=0.5, what="%d pictures in the log" % n)

    def assert_one_week_of_every_area(self, pics):
        self.assertEqual(sorted(e.picture.area for e in pics), sorted(AREAS + ("all",)))
        self.assertEqual(len({e.picture.week for e in pics}), 1)
        for e in pics:
            self.assertEqual(e.topic, e.picture.area + "/pictures")
            self.assertEqual(e.org, "esthub")


class WeeklySchedule(ScheduleBase):
    schedule = "every 2s"

    def test_schedule_fires_once_for_the_week_that_ended(self):
        # A fresh instance has nothing to picture: no pictures at start.
        time.sleep(1.5)
        self.assertEqual(self.pictures(), [])
        observed = h.now() - WEEK  # always in the week before this one
        head = self.push(observed)
        pics = self.wait_pictures(6, 20)
        self.assert_one_week_of_every_area(pics)
        by_area = {e.picture.area: e.picture for e in pics}
        p = by_area["hageby"]
        self.assertTrue(p.period_start <= observed < p.period_end, p)
        self.assertLessEqual(p.period_end, h.now())
        self.assertGreaterEqual(p.generated_at, p.period_end)
        self.assertEqual(p.through_seq, head)
        self.assertEqual(sum(c.reports for c in p.categories), 3)
        self.assertEqual(len(p.trend), 12)
        self.assertEqual(p.trend[-1].week, p.week)
        self.assertEqual(p.trend[-1].reports, 3)
        self.assertEqual([r.area for r in p.area_ranks], list(AREAS))
        # The week is in the log now: the next fires do not compile it again, nor a restart.
        time.sleep(5 * h.SLOW)
        self.assertEqual(len(self.pictures()), 6)
        self.inst.stop()
        self.inst.start()
        time.sleep(3 * h.SLOW)
        self.assertEqual(len(self.pictures()), 6)


class CatchUpAtStart(ScheduleBase):
    schedule = "mon 07:00"

    def setUp(self):
        # The test needs the fire ahead, not during it: not in the seconds around Monday 07:00.
        fire = 7 * 3600
        if fire - 30 <= into_week_s() < fire + 2:
            time.sleep(max(0, fire + 2 - into_week_s()))
        super().setUp()

    def test_a_hub_down_at_the_scheduled_time_compiles_at_start(self):
        observed = h.now() - 2 * WEEK  # before the week that ended, in every case
        self.push(observed)
        time.sleep(1.5)
        self.assertEqual(self.pictures(), [], "the fire is next Monday: nothing yet")
        self.inst.stop()
        self.inst.start()
        pics = self.wait_pictures(6, 15)
        self.assert_one_week_of_every_area(pics)
        p = pics[0].picture
        self.assertGreaterEqual(p.generated_at, p.period_end)
        self.assertLessEqual(p.period_end, h.now())
        self.assertGreater(p.period_end, h.now() - 2 * WEEK)
        self.assertIn("compiled 6 pictures of " + p.week, self.inst.hub_stderr())
        # Started again: the log has that week's overview compiled after the week: nothing new.
        self.inst.stop()
        self.inst.start()
        time.sleep(3 * h.SLOW)
        self.assertEqual(len(self.pictures()), 6)


class LivePicture(ScheduleBase):
    live = "2"

    def test_live_picture_follows_new_reports_at_most_every_interval(self):
        # The reports below are observed up to 30 s back and must fall in the current week:
        # not in the first minute after Monday 00:00 in Stockholm, when they would not.
        time.sleep(max(0, 60 - into_week_s()))
        time.sleep(3)
        self.assertEqual(self.pictures(), [], "no live picture without new reports")
        t = h.now()
        # 30 s back: in the current week (the wait above)
        first = self.push(t - 30, n=1)
        pics = self.wait_pictures(6, 15)
        self.assert_one_week_of_every_area(pics)
        p = {e.picture.area: e.picture for e in pics}["hageby"]
        self.assertTrue(p.period_start <= t < p.period_end)
        self.assertLess(p.generated_at, p.period_end)
        self.assertEqual(p.through_seq, first)
        self.assertEqual(p.trend[-1].reports, 1)
        second = self.push(h.now() - 20, n=2)
        pics = self.wait_pictures(12, 15)
        later = {e.picture.area: e.picture for e in pics[6:]}["hageby"]
        self.assertEqual(later.through_seq, second)
        self.assertEqual(later.trend[-1].reports, 3)
        self.assertGreaterEqual(later.generated_at - p.generated_at, 2)
        # Nothing new: nothing republished.
        time.sleep(4 * h.SLOW)
        self.assertEqual(len(self.pictures()), 12)


class ConfigErrors(unittest.TestCase):
    def setUp(self):
        h.require_programs()
        self.inst = h.Instance()
        self.addCleanup(self.inst.cleanup)

    def line_of(self, key):
        with open(self.inst.conf, encoding="utf-8") as f:
            for n, line in enumerate(f.read().split("\n"), 1):
                if re.match(r"^\s*%s\s*=" % key, line):
                    return n
        raise AssertionError(key + " not in hub.conf")

    def test_init_writes_every_picture_key_and_check_accepts_them(self):
        for key in ("distance_m", "window_seconds", "weight_gathering", "trend_factor",
                    "confirm_factor", "hotspots_max", "followup_radius_m", "followup_weeks",
                    "flag_weeks", "schedule", "live_interval_seconds"):
            self.line_of(key)
        r = run([h.ESTHUB, "check", self.inst.dir])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_check_points_at_bad_picture_values(self):
        self.inst.conf_set("pictures", "schedule", "monday 7")
        self.inst.conf_set("merge", "distance_m", "-5")
        self.inst.conf_set("pictures", "weight_gathering", "1,5")
        self.inst.conf_set("pictures", "flag_weeks", "12")
        r = run([h.ESTHUB, "check", self.inst.dir])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        out = r.stdout + r.stderr
        for key, why in (("pictures.schedule", "mon 07:00"), ("merge.distance_m", "1..10000"),
                         ("pictures.weight_gathering", "not a number"),
                         ("pictures.flag_weeks", "0..11")):
            line = self.line_of(key.split(".")[1])
            self.assertRegex(out, r"hub\.conf:%d: %s: .*%s" % (line, re.escape(key), re.escape(why)))
        r = subprocess.run([h.ESTHUB, "run", self.inst.dir], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=15 * h.SLOW)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("pictures.schedule", r.stderr)


if __name__ == "__main__":
    unittest.main()
