# SPDX-License-Identifier: Apache-2.0
"""Measures through the real programs: `estctl measure add / set / show / list` make the running
hub judge and log every change on AREA/measures; every refused transition exits 1 with its
message; a working group's situational members do not get the social group's measures while the
social group does (live from the feed's cache and, after a restart, from the store); partner
systems update the measures assigned to their own organisation through ingest; the registry
survives a restart of the hub."""

import os
import re
import time
import unittest

import harness as h


class Measures(h.HubTestCase):
    def ctl(self, *args):
        return self.inst.estctl("measure", *args)

    def add(self, *args):
        r = self.ctl("add", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        mid = r.stdout.strip()
        self.assertRegex(mid, r"^m[1-9][0-9]*$")
        return mid

    def set_ok(self, mid, *args):
        r = self.ctl("set", mid, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def refused(self, args, message):
        r = self.ctl(*args)
        self.assertEqual(r.returncode, 1, "%s: %s%s" % (args, r.stdout, r.stderr))
        self.assertIn(message, r.stderr)
        return r

    def measure_entries(self, client=None, topics=("*/measures",), from_seq=1):
        r, entries = self.inst.run_feed(client or self.inst.admin, topics=topics, from_seq=from_seq)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [e for e in entries if e.WhichOneof("body") == "measure"]

    def push_reports(self, n=2):
        raw = self.raw(self.inst.police)
        ack = raw.request([h.report() for _ in range(n)])
        self.assertEqual([x.status for x in ack.results], [h.pb().STATUS_ACCEPTED] * n)
        return [x.seq for x in ack.results]

    def test_add_set_show_list_and_the_log(self):
        P = h.pb()
        seqs = self.push_reports()
        mid = self.add("--area", "hageby", "--kind", "lighting", "--org", "housing",
                       "--place", "Hageby centrum, gångvägen", "--lat", "58.5671", "--lon", "16.1869",
                       "--reports", ",".join(map(str, seqs)), "--starts", "2026-11-28T18:00",
                       "--ends", "2026-12-05T18:00", "--description", "Trasig belysning byts")
        self.assertEqual(mid, "m1")
        self.assertEqual(self.add("--area", "city", "--kind", "presence", "--org", "police",
                                  "--status", "decided"), "m2")
        show = self.ctl("show", "m1")
        self.assertEqual(show.returncode, 0, show.stderr)
        for want in ("measure m1", "hageby", "lighting", "situational", "housing", "proposed",
                     "Hageby centrum, gångvägen", "58.567100, 16.186900", "2026-11-28 18:00",
                     "2026-12-05 18:00", "%d, %d" % tuple(seqs), "Trasig belysning byts"):
            self.assertIn(want, show.stdout)
        self.set_ok("m1", "--status", "decided")
        self.set_ok("m1", "--status", "in_progress")
        r = self.set_ok("m1", "--status", "done", "--outcome", "Ny belysning uppsatt")
        self.assertIn("in_progress -> done", r.stdout)
        show = self.ctl("show", "m1")
        self.assertIn("done", show.stdout)
        self.assertIn("Ny belysning uppsatt", show.stdout)

        lst = self.ctl("list")
        self.assertEqual(lst.returncode, 0, lst.stderr)
        lines = lst.stdout.splitlines()
        self.assertEqual(len(lines), 2, lst.stdout)
        self.assertRegex(lines[0], r"^m1\s+hageby\s+lighting\s+situational\s+housing\s+done\s")
        self.assertRegex(lines[1], r"^m2\s+city\s+presence\s+-\s+police\s+decided\s")
        city = self.ctl("list", "--area", "city")
        self.assertEqual([l.split()[0] for l in city.stdout.splitlines()], ["m2"])

        # Every change is one entry on AREA/measures with the full measure, org esthub.
        entries = self.measure_entries()
        self.assertEqual([(e.topic, e.measure.measure_id, e.measure.status) for e in entries], [
            ("hageby/measures", "m1", P.MEASURE_STATUS_PROPOSED),
            ("city/measures", "m2", P.MEASURE_STATUS_DECIDED),
            ("hageby/measures", "m1", P.MEASURE_STATUS_DECIDED),
            ("hageby/measures", "m1", P.MEASURE_STATUS_IN_PROGRESS),
            ("hageby/measures", "m1", P.MEASURE_STATUS_DONE),
        ])
        last = entries[-1].measure
        self.assertEqual(entries[-1].org, "esthub")
        self.assertEqual(last.group, P.GROUP_SITUATIONAL)
        self.assertEqual(last.assigned_org, "housing")
        self.assertEqual(list(last.report_seqs), seqs)
        self.assertEqual(last.outcome, "Ny belysning uppsatt")
        self.assertEqual(last.description, "Trasig belysning byts")
        self.assertEqual(entries[1].measure.group, P.GROUP_UNSPECIFIED)
        # The chain still holds.
        self.assertEqual(self.inst.estctl("verify").returncode, 0)

    def test_every_refused_transition_exits_1_with_its_message(self):
        # One measure in each status.
        ids = {}
        for status in ("proposed", "decided", "in_progress", "done", "cancelled"):
            mid = self.add("--area", "navestad", "--kind", "cleanup", "--org", "municipality")
            path = {"proposed": [], "decided": ["decided"], "in_progress": ["decided", "in_progress"],
                    "done": ["decided", "done"], "cancelled": ["cancelled"]}[status]
            for s in path:
                self.set_ok(mid, "--status", s)
            ids[status] = mid
        refusals = [
            ("proposed", "in_progress", "is proposed; a proposed measure must be decided before it can go to in_progress"),
            ("proposed", "done", "is proposed; a proposed measure must be decided before it can go to done"),
            ("decided", "proposed", "is decided; a measure cannot go back to proposed"),
            ("in_progress", "proposed", "is in_progress; a measure cannot go back to proposed"),
            ("in_progress", "decided", "is in_progress; a measure cannot go back to decided"),
            ("done", "proposed", "is done; a done measure is final and cannot go to proposed"),
            ("done", "decided", "is done; a done measure is final and cannot go to decided"),
            ("done", "in_progress", "is done; a done measure is final and cannot go to in_progress"),
            ("done", "cancelled", "is done; a done measure is final and cannot go to cancelled"),
            ("cancelled", "proposed", "is cancelled; a cancelled measure cannot go to proposed"),
            ("cancelled", "decided", "is cancelled; a cancelled measure cannot go to decided"),
            ("cancelled", "in_progress", "is cancelled; a cancelled measure cannot go to in_progress"),
            ("cancelled", "done", "is cancelled; a cancelled measure cannot go to done"),
        ]
        head = h.last_data_seq(self.inst.read_log())
        for frm, to, msg in refusals:
            self.refused(("set", ids[frm], "--status", to), "measure %s %s" % (ids[frm], msg))
        # Nothing of the refusals was logged.
        self.assertEqual(h.last_data_seq(self.inst.read_log()), head)
        # The outcome of a done measure may still change.
        self.set_ok(ids["done"], "--outcome", "Uppföljning visar färre incidenter")

        # Bad new measures and bad ids.
        self.refused(("add", "--area", "all", "--kind", "presence", "--org", "police"),
                     'area: unknown area "all"')
        self.refused(("add", "--area", "hageby", "--kind", "ljus", "--org", "police"),
                     '--kind: unknown value "ljus"')
        self.refused(("add", "--area", "hageby", "--kind", "presence", "--org", "police",
                      "--reports", "999"), "report_seqs: seq 999 is not in the log")
        self.refused(("add", "--area", "hageby", "--kind", "presence", "--org", "police",
                      "--reports", "1"), "report_seqs: seq 1 is not a report entry")
        self.refused(("add", "--area", "hageby", "--kind", "presence", "--org", "police",
                      "--starts", "2026-11-28T18:00", "--ends", "2026-11-28T17:00"),
                     "ends_at: before starts_at")
        self.refused(("add", "--area", "hageby", "--kind", "presence", "--org", "police",
                      "--status", "done"), "status: a new measure is proposed or decided")
        self.refused(("add", "--area", "hageby", "--kind", "presence"), "needs --area, --kind and --org")
        self.refused(("set", "m99", "--status", "done"), 'unknown measure "m99"')
        self.refused(("show", "m99"), 'unknown measure "m99"')
        self.refused(("set", ids["decided"], "--status", "klar"), '--status: unknown value "klar"')

    def test_hub_not_running(self):
        self.inst.stop()
        for args in (("list",), ("show", "m1"), ("add", "--area", "hageby", "--kind", "wifi", "--org", "housing"),
                     ("set", "m1", "--status", "done")):
            r = self.ctl(*args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("hub not running", r.stderr)

    def test_social_measures_reach_only_the_social_group(self):
        sit = self.inst.add_client("hageby-sit", "subscriber", groups=["hageby/situational"])
        soc = self.inst.add_client("hageby-soc", "subscriber", groups=["hageby/social"])
        nav = self.inst.add_client("navestad-grupp", "subscriber", groups=["navestad/situational", "navestad/social"])
        time.sleep(1.5 * h.SLOW)  # the hub reads new certificates within a second
        self.add("--area", "hageby", "--kind", "vegetation", "--org", "municipality")  # m1 situational
        self.add("--area", "hageby", "--kind", "parental_support", "--org", "municipality")  # m2 social
        self.add("--area", "navestad", "--kind", "leisure", "--org", "municipality")  # m3 social, navestad
        self.set_ok("m2", "--status", "decided")

        def seen(client, topics):
            return [e.measure.measure_id for e in self.measure_entries(client, topics=topics)]

        def check():
            for topics in (("*/measures",), ("hageby/measures",), ("hageby/*",), ("*/*",)):
                self.assertEqual(seen(sit, topics), ["m1"], topics)
                self.assertEqual(seen(soc, topics), ["m1", "m2", "m2"], topics)
                self.assertEqual(seen(self.inst.hageby, topics), ["m1", "m2", "m2"], topics)
            self.assertEqual(seen(nav, ("*/measures",)), ["m3"])
            self.assertEqual(seen(self.inst.admin, ("*/measures",)), ["m1", "m2", "m3", "m2"])

        check()  # served from the feed's cache of recent entries
        self.inst.stop()
        self.inst.start()
        check()  # served from the store

        # Live: a situational subscriber following along does not get a new social measure.
        feed = self.raw_feed(sit)
        feed.subscribe(["*/measures"], from_seq=0)
        st, _ = feed.status()
        self.assertTrue(st.ok, st.message)
        self.add("--area", "hageby", "--kind", "outreach", "--org", "municipality")  # m4 social
        self.add("--area", "hageby", "--kind", "presence", "--org", "police")  # m5
        got = feed.entries(1, timeout_s=5)
        self.assertEqual([e.measure.measure_id for e in got], ["m5"])

    def update(self, client, request_id, **fields):
        P = h.pb()
        env = P.Envelope(version=1, request_id=request_id)
        for k, v in fields.items():
            setattr(env.measure, k, v)
        raw = self.raw(client)
        raw.send(env)
        ack = raw.expect_ack(request_id)
        self.assertEqual(ack.error, "")
        self.assertEqual(len(ack.results), 1)
        return ack.results[0]

    def test_partner_updates_its_own_measures(self):
        P = h.pb()
        self.add("--area", "hageby", "--kind", "lighting", "--org", "housing", "--status", "decided")
        self.add("--area", "hageby", "--kind", "presence", "--org", "police")

        res = self.update(self.inst.housing, 1, measure_id="m1", status=P.MEASURE_STATUS_IN_PROGRESS)
        self.assertEqual((res.source_id, res.status, res.error), ("m1", P.STATUS_ACCEPTED, ""))
        first = res.seq
        res = self.update(self.inst.housing, 2, measure_id="m1", status=P.MEASURE_STATUS_IN_PROGRESS)
        self.assertEqual((res.status, res.seq), (P.STATUS_DUPLICATE, first))
        res = self.update(self.inst.housing, 3, measure_id="m1", status=P.MEASURE_STATUS_DONE,
                          outcome="Ny belysning uppsatt")
        self.assertEqual(res.status, P.STATUS_ACCEPTED)
        done_seq = res.seq

        refusals = [
            (self.inst.police, dict(measure_id="m1", status=P.MEASURE_STATUS_CANCELLED),
             "measure m1 is not assigned to your organisation (police)"),
            (self.inst.housing, dict(measure_id="m2", status=P.MEASURE_STATUS_DECIDED),
             "measure m2 is not assigned to your organisation (housing)"),
            (self.inst.housing, dict(measure_id="m1", status=P.MEASURE_STATUS_IN_PROGRESS),
             "measure m1 is done; a done measure is final and cannot go to in_progress"),
            (self.inst.housing, dict(measure_id="m7", status=P.MEASURE_STATUS_DONE),
             'measure_id: unknown measure "m7"'),
            (self.inst.housing, dict(measure_id="m1", area="navestad"),
             "area: cannot be changed by an update"),
        ]
        for i, (client, fields, msg) in enumerate(refusals):
            res = self.update(client, 10 + i, **fields)
            self.assertEqual(res.status, P.STATUS_REJECTED, fields)
            self.assertIn(msg, res.error)
            self.assertEqual(res.seq, 0)

        # The accepted updates are on the log under the adapter's org, and reach the feed.
        entries = self.measure_entries()
        self.assertEqual([(e.seq, e.org, e.measure.status) for e in entries[2:]], [
            (first, "housing", P.MEASURE_STATUS_IN_PROGRESS),
            (done_seq, "housing", P.MEASURE_STATUS_DONE)])
        self.assertEqual(entries[-1].measure.outcome, "Ny belysning uppsatt")
        self.assertEqual(entries[-1].measure.kind, P.MEASURE_KIND_LIGHTING)
        show = self.ctl("show", "m1")
        self.assertIn("Ny belysning uppsatt", show.stdout)

        # A subscriber cannot send updates.
        P2 = P.Envelope(version=1, request_id=50)
        P2.measure.measure_id = "m2"
        P2.measure.status = P.MEASURE_STATUS_CANCELLED
        raw = self.raw(self.inst.hageby)
        raw.send(P2)
        ack = raw.expect_ack(50)
        self.assertIn("may not send", ack.error)
        self.assertEqual(len(ack.results), 0)

    def test_personal_data_in_texts_refused(self):
        """Measures' texts are checked like reports' (docs/personal-data.md) and refused, never
        masked; the refusal names the field and the kind without echoing the number."""
        P = h.pb()
        r = self.refused(["add", "--area", "hageby", "--kind", "outreach", "--org", "municipality",
                          "--description", "Samtal med 19811218-9876 om läget"],
                         "description: contains what looks like a Swedish personal identity number")
        self.assertNotIn("9876", r.stderr)
        mid = self.add("--area", "hageby", "--kind", "lighting", "--org", "housing", "--status", "decided")
        self.refused(["set", mid, "--status", "in_progress", "--outcome", "Ring 070-123 45 67"],
                     "outcome: contains what looks like a")
        res = self.update(self.inst.housing, 1, measure_id=mid, status=P.MEASURE_STATUS_IN_PROGRESS,
                          outcome="Kontakt: ansvarig@example.se")
        self.assertEqual(res.status, P.STATUS_REJECTED)
        self.assertIn("outcome: contains what looks like", res.error)
        self.assertNotIn("example.se", res.error)
        self.assertEqual([m.measure.measure_id for m in self.measure_entries()], [mid])

    def test_restart_keeps_the_registry(self):
        self.add("--area", "marielund", "--kind", "wifi", "--org", "municipality")
        self.set_ok("m1", "--status", "cancelled", "--outcome", "Nätet stängdes av ägaren")
        self.add("--area", "klockaretorpet", "--kind", "skills_training", "--org", "municipality")
        before = self.ctl("list").stdout
        self.inst.stop()
        self.inst.start()
        self.assertEqual(self.ctl("list").stdout, before)
        show = self.ctl("show", "m1")
        self.assertIn("cancelled", show.stdout)
        self.assertIn("Nätet stängdes av ägaren", show.stdout)
        self.refused(("set", "m1", "--status", "in_progress"),
                     "measure m1 is cancelled; a cancelled measure cannot go to in_progress")
        self.assertEqual(self.add("--area", "hageby", "--kind", "other", "--org", "police"), "m3")


if __name__ == "__main__":
    unittest.main()
