# SPDX-License-Identifier: Apache-2.0
"""Feeds: from seq 1 (everything, in order, then live), from 0 (only what is new),
topic authorization (a named forbidden topic is refused by name, a wildcard is
filtered), credit, and est-feed's output."""

import json
import time
import unittest

import harness as h

# One point inside each area.
POINTS = {"hageby": (58.566, 16.187), "navestad": (58.583, 16.237), "city": (58.592, 16.185),
          "marielund": (58.607, 16.145), "klockaretorpet": (58.571, 16.142)}


class Feed(h.HubTestCase):
    def push_areas(self, per_area=2, client=None):
        """per_area reports in each area; returns {seq: area}."""
        reps = [h.report(area=a, position=POINTS[a]) for a in POINTS for _ in range(per_area)]
        ack = self.raw(client or self.inst.police).request(reps)
        self.assertAccepted(ack, len(reps))
        return {res.seq: rep.area for res, rep in zip(ack.results, reps)}

    def test_from_1_gets_everything_in_order_then_live(self):
        pushed = self.push_areas()
        f = self.raw_feed(self.inst.admin)
        f.subscribe(["*/*"], from_seq=1)
        st, before = f.status()
        self.assertEqual(before, [], "the FeedStatus comes before any entry")
        self.assertTrue(st.ok, st.message)
        self.assertGreaterEqual(st.head_seq, max(pushed))
        got = f.entries(st.head_seq)
        self.assertEqual([e.seq for e in got], list(range(1, st.head_seq + 1)))
        for e in got:
            if e.seq in pushed:
                self.assertEqual(e.topic, pushed[e.seq] + "/reports")
        # Then live.
        more = self.push_areas(per_area=1)
        live = f.entries(len(more), skip_audit=True)  # its own subscription is audited
        self.assertEqual([e.seq for e in live], sorted(more))

    def test_from_n_starts_at_n(self):
        pushed = self.push_areas()
        f = self.raw_feed(self.inst.admin)
        f.subscribe(["*/*"], from_seq=4)
        st, _ = f.status()
        got = f.entries(st.head_seq - 3)
        self.assertEqual([e.seq for e in got], list(range(4, st.head_seq + 1)))
        self.assertGreaterEqual(st.head_seq, max(pushed))

    def test_from_0_gets_only_new_entries(self):
        self.push_areas()
        f = self.raw_feed(self.inst.admin)
        f.subscribe(["*/*"], from_seq=0)
        st, _ = f.status()
        self.assertTrue(st.ok)
        self.assertEqual(f.entries(1, timeout_s=1.5, skip_audit=True), [],
                         "from 0 sends nothing that was there before")
        new = self.push_areas(per_area=1)
        got = f.entries(len(new), skip_audit=True)
        self.assertEqual([e.seq for e in got], sorted(new))
        self.assertGreater(min(new), st.head_seq)

    def test_named_forbidden_topic_refused_by_name_rest_served(self):
        pushed = self.push_areas()
        f = self.raw_feed(self.inst.hageby)
        f.subscribe(["navestad/reports", "hageby/reports"], from_seq=1)
        st, before = f.status()
        self.assertEqual(before, [])
        self.assertIsNotNone(st)
        self.assertFalse(st.ok, "a named topic the certificate may not read is refused")
        self.assertIn("navestad/reports", st.message)
        got = f.entries(100, timeout_s=2)
        want = sorted(s for s, a in pushed.items() if a == "hageby")
        self.assertEqual([e.seq for e in got], want, "the rest is served, nothing of navestad")
        self.assertTrue(all(e.topic == "hageby/reports" for e in got))

    def test_only_forbidden_topics(self):
        self.push_areas()
        for topic in ("navestad/reports", "all/audit", "city/reports", "hageby/audit"):
            f = self.raw_feed(self.inst.hageby)
            f.subscribe([topic], from_seq=1)
            st, _ = f.status()
            self.assertIsNotNone(st, topic)
            self.assertFalse(st.ok, topic)
            self.assertIn(topic, st.message)
            self.assertEqual(f.entries(1, timeout_s=1), [], topic)

    def test_wildcards_yield_only_what_may_be_read(self):
        pushed = self.push_areas()
        hageby = sorted(s for s, a in pushed.items() if a == "hageby")
        for topics in (["*/reports"], ["*/*"], ["hageby/*"], ["*/reports", "all/pictures"]):
            f = self.raw_feed(self.inst.hageby)
            f.subscribe(topics, from_seq=1)
            st, _ = f.status()
            self.assertTrue(st.ok, "%s: %s" % (topics, st.message))
            got = f.entries(100, timeout_s=1.5)
            self.assertEqual([e.seq for e in got if e.WhichOneof("body") == "report"], hageby, topics)
            for e in got:
                self.assertTrue(e.topic.startswith("hageby/") or e.topic in ("all/pictures", "all/checkpoints"),
                                "%s leaked %s" % (topics, e.topic))

    def test_organisation_overview_reads_only_the_overview(self):
        """A subscriber with an org and no groups is an organisation's overview: all/pictures
        and all/checkpoints, nothing of any area; an area topic named is refused by name."""
        self.push_areas()
        r = self.inst.estctl("picture", "compile", "--week", "2026-W47")
        self.assertEqual(r.returncode, 0, r.stderr)
        ov = self.inst.add_client("polisen-oversikt", "subscriber", org="police")
        f = self.raw_feed(ov)
        f.subscribe(["*/*"], from_seq=1)
        st, _ = f.status()
        self.assertTrue(st.ok, st.message)
        got = f.entries(100, timeout_s=1.5)
        self.assertEqual(sorted({e.topic for e in got}), ["all/pictures"], "the overview picture only")
        f = self.raw_feed(ov)
        f.subscribe(["hageby/pictures", "all/pictures"], from_seq=1)
        st, _ = f.status()
        self.assertIn("hageby/pictures", st.message)
        self.assertEqual({e.topic for e in f.entries(100, timeout_s=1.5)}, {"all/pictures"})
        # Without org and groups a subscriber is nobody's: refused with what to give.
        r = self.inst.estctl("client", "add", "nobody", "--role", "subscriber")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--groups", r.stderr)
        self.assertIn("--org", r.stderr)

    def test_est_feed_json_and_forbidden_topic_exit(self):
        pushed = self.push_areas()
        r, entries = self.inst.run_feed(self.inst.hageby, topics=("hageby/*", "navestad/reports"), from_seq=1)
        self.assertIn("navestad/reports", r.stderr, "the refusal is shown on stderr")
        self.assertEqual([e.seq for e in entries], sorted(s for s, a in pushed.items() if a == "hageby"))
        # The JSON is the protobuf mapping: lowerCamelCase, int64 as strings.
        line = json.loads(r.stdout.splitlines()[0])
        self.assertIsInstance(line["seq"], str)
        self.assertIn("loggedAt", line)
        self.assertEqual(line["report"]["category"], "CATEGORY_GATHERING")

    def test_credit_window(self):
        self.push_areas(per_area=2)
        f = self.raw_feed(self.inst.admin)
        f.subscribe(["*/*"], from_seq=1, credit=3)
        st, _ = f.status()
        got = f.entries(10, timeout_s=1.5)
        self.assertEqual([e.seq for e in got], [1, 2, 3], "only as many entries as credit")
        f.credit(4)
        got = f.entries(10, timeout_s=1.5)
        self.assertEqual([e.seq for e in got], [4, 5, 6, 7])
        f.credit(0)  # keepalive only
        self.assertEqual(f.entries(1, timeout_s=1), [])

    def test_a_new_subscribe_replaces_the_old(self):
        pushed = self.push_areas()
        f = self.raw_feed(self.inst.admin)
        f.subscribe(["navestad/reports"], from_seq=1)
        f.status()
        f.entries(100, timeout_s=1)
        f.subscribe(["city/reports"], from_seq=1)
        st, _ = f.status()
        self.assertTrue(st.ok)
        got = f.entries(100, timeout_s=1.5)
        self.assertEqual([e.seq for e in got], sorted(s for s, a in pushed.items() if a == "city"))
        more = self.push_areas(per_area=1)
        got = f.entries(100, timeout_s=1.5)
        self.assertEqual([e.seq for e in got], sorted(s for s, a in more.items() if a == "city"))

    def test_est_feed_until_head_exits_0_and_plain_lines(self):
        pushed = self.push_areas()
        r, _ = self.inst.run_feed(self.inst.admin, topics=("*/reports",), from_seq=1, json_out=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), len(pushed))
        for line in lines:
            seq, topic, org, rest = line.split(" ", 3)
            self.assertEqual(topic, pushed[int(seq)] + "/reports")
            self.assertEqual(org, "police")
            # local time (Europe/Stockholm) then a summary
            self.assertRegex(rest, r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?\S* \S")

    def test_until_head_on_an_empty_log(self):
        r, entries = self.inst.run_feed(self.inst.admin, topics=("*/reports",), from_seq=1, timeout_s=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(entries, [])

    def test_follower_gets_live_entries_flushed_per_line(self):
        follower = self.inst.spawn(self.inst.feed_argv(self.inst.hageby, topics=("hageby/*",), from_seq=0,
                                                       until_head=False), "follow")
        time.sleep(1.0 * h.SLOW)  # let it subscribe
        pushed = self.push_areas(per_area=1)
        want = [s for s, a in sorted(pushed.items()) if a == "hageby"]
        h.wait_until(lambda: len(follower.lines) >= len(want), 5 * h.SLOW, what="live entries from est-feed")
        got = [h.json_format().Parse(l, h.pb().LogEntry()).seq for l in follower.lines]
        self.assertEqual(got, want)


class SilentSubscribers(h.HubTestCase):
    """A subscriber silent for subscriber_timeout_seconds is forgotten and must subscribe again;
    one that sends credit (0 is fine) in time is kept."""

    def configure(self, inst):
        inst.conf_set("feed", "subscriber_timeout_seconds", "5")

    def test_silent_forgotten_talking_kept(self):
        silent = self.raw_feed(self.inst.admin)
        talking = self.raw_feed(self.inst.admin)
        for f in (silent, talking):
            f.subscribe(["*/*"], from_seq=0)
            st, _ = f.status()
            self.assertTrue(st.ok)
        t_end = time.monotonic() + 7 * h.SLOW
        while time.monotonic() < t_end:
            talking.credit(0)
            time.sleep(1)
        ack = self.raw(self.inst.police).request([h.report()])
        self.assertAccepted(ack, 1)
        seq = ack.results[0].seq
        self.assertEqual([e.seq for e in talking.entries(1, skip_audit=True)], [seq],
                         "a subscriber that kept talking is served")
        self.assertEqual(silent.entries(1, timeout_s=1.5, skip_audit=True), [], "a silent subscriber is forgotten")
        # It learns so when it speaks again, and a new Subscribe brings it back where it was.
        silent.credit(10)
        st, _ = silent.status(3)
        self.assertIsNotNone(st, "the hub answers a forgotten subscriber's credit with a FeedStatus")
        self.assertFalse(st.ok)
        silent.subscribe(["*/*"], from_seq=seq)
        st, _ = silent.status()
        self.assertTrue(st.ok)
        self.assertEqual([e.seq for e in silent.entries(1)], [seq])


if __name__ == "__main__":
    unittest.main()
