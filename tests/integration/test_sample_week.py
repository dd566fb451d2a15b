# SPDX-License-Identifier: Apache-2.0
"""The demo's sample week (config/sample/week): realistic, free of personal data, valid
against the contract, and delivered whole through the real programs."""

import datetime
import json
import os
import re
import unittest
from zoneinfo import ZoneInfo

import harness as h

TZ = ZoneInfo("Europe/Stockholm")
WEEK_START = int(datetime.datetime(2026, 11, 16, tzinfo=TZ).timestamp())
WEEK_END = int(datetime.datetime(2026, 11, 23, tzinfo=TZ).timestamp())

# What would be personal data in free text: Swedish personal identity numbers,
# phone numbers, e-mail addresses, registration plates.
PERSONAL = [
    ("personnummer", re.compile(r"\b(19|20)?\d{6}[-+]?\d{4}\b")),
    ("phone number", re.compile(r"(\+46|\b0)\s?\d{1,3}[\s-]?\d{2,3}[\s-]?\d{2}[\s-]?\d{2}\b")),
    ("e-mail", re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")),
    ("registration plate", re.compile(r"\b[A-Z]{3}\s?\d{2}[A-Z0-9]\b")),
]
ROLE_WORDS = ("fältassistent", "områdespolis", "fastighetsskötare", "bovärd", "trygghetsvärd", "kommunpolis",
              "vakthavande befäl", "gatuingenjör", "parkarbetare", "fritidsledare", "evenemangssamordnare",
              "kundtjänst (felanmälan)")


def load_sample():
    P = h.pb()
    out = []
    for path in h.SAMPLE_FILES:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                r = P.Report()
                h.json_format().Parse(line, r)
                out.append((os.path.basename(path), n, r, json.loads(line)))
    return out


class SampleData(unittest.TestCase):
    """Checks on the files alone (no hub)."""

    @classmethod
    def setUpClass(cls):
        cls.sample = load_sample()
        cls.areas = h.load_areas()

    def test_size_and_spread(self):
        P = h.pb()
        self.assertTrue(40 <= len(self.sample) <= 60, len(self.sample))
        cats = {r.category for _, _, r, _ in self.sample}
        want = {v.number for v in P.Category.DESCRIPTOR.values if v.number != 0}
        self.assertEqual(cats, want, "every category occurs")
        areas = {r.area or h.locate(self.areas, r.position.lat, r.position.lon) for _, _, r, _ in self.sample}
        self.assertEqual(areas, set(h.AREAS), "every area occurs, nothing outside")

    def test_week_47_and_times(self):
        P = h.pb()
        for f, n, r, _ in self.sample:
            self.assertTrue(WEEK_START <= r.observed_at < WEEK_END, "%s:%d observed outside 2026-W47" % (f, n))
            if r.category == P.CATEGORY_UPCOMING_EVENT:
                self.assertGreater(r.starts_at, r.observed_at, "%s:%d an upcoming event lies ahead" % (f, n))
                self.assertGreater(r.ends_at, r.starts_at, "%s:%d" % (f, n))

    def test_positions_inside_the_named_area(self):
        for f, n, r, _ in self.sample:
            self.assertTrue(r.HasField("position"), "%s:%d has a position" % (f, n))
            got = h.locate(self.areas, r.position.lat, r.position.lon)
            if r.area:
                self.assertEqual(got, r.area, "%s:%d position lies in %s, not in %s" % (f, n, got, r.area))
            else:
                self.assertNotEqual(got, "outside", "%s:%d" % (f, n))

    def test_protobuf_json_mapping(self):
        for f, n, r, raw in self.sample:
            # lowerCamelCase, enums by name, int64 as strings: what json_format writes.
            again = json.loads(h.report_json(r))
            self.assertEqual(raw, again, "%s:%d is not in the canonical mapping" % (f, n))
            self.assertIsInstance(raw["observedAt"], str)

    def test_revision_withdrawal_and_several_orgs_on_one_event(self):
        keys = {}
        for f, n, r, _ in self.sample:
            keys.setdefault((f, r.source_id), []).append(r)
        revised = [(k, rs) for k, rs in keys.items() if len(rs) > 1]
        self.assertTrue(any(rs[-1].revision == 1 and not rs[-1].withdrawn for _, rs in revised), "a correction")
        self.assertTrue(any(rs[-1].withdrawn for _, rs in revised), "a withdrawal")
        for (_f, sid), rs in revised:
            self.assertEqual([x.revision for x in rs], sorted({x.revision for x in rs}), sid)
        # The same event from different organisations: same area, within an hour, same category.
        by = {}
        for f, n, r, _ in self.sample:
            area = r.area or h.locate(self.areas, r.position.lat, r.position.lon)
            by.setdefault((area, r.category), []).append((f, r))
        shared = 0
        for group in by.values():
            for i, (fa, a) in enumerate(group):
                for fb, b in group[i + 1:]:
                    if fa != fb and abs(a.observed_at - b.observed_at) <= 3600:
                        shared += 1
        self.assertGreaterEqual(shared, 3, "several organisations report the same events")

    def test_no_personal_data(self):
        for f, n, r, raw in self.sample:
            self.assertIn(r.reporter_role, ROLE_WORDS, "%s:%d reporterRole must be a role" % (f, n))
            text = " ".join([r.description, r.place, r.subcategory])
            for what, pat in PERSONAL:
                self.assertIsNone(pat.search(text), "%s:%d looks like a %s: %r" % (f, n, what, text))
            self.assertLessEqual(r.severity, 5)


class SampleThroughTheHub(h.HubTestCase):
    def test_three_adapters_push_the_week_and_hageby_group_sees_its_area(self):
        P = h.pb()
        clients = {"municipality.jsonl": self.inst.muni, "police.jsonl": self.inst.police,
                   "housing.jsonl": self.inst.housing}
        accepted = {}
        for path in h.SAMPLE_FILES:
            name = os.path.basename(path)
            r = self.inst.run_adapter(clients[name], [path], timeout_s=30)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (name, r.stdout, r.stderr))
            for fn, rec, sid, rev, status, rest in h.parse_adapter_lines(r.stdout):
                self.assertEqual(status, "accepted", "%s:%d %s" % (fn, rec, rest))
                accepted[(h.SAMPLE_ORGS[name], sid, rev)] = int(rest)
        sample = load_sample()
        self.assertEqual(len(accepted), len(sample))

        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        stored = self.reports_in_log(log)
        for key, seq in accepted.items():
            self.assertEqual([e.seq for e in stored[key]], [seq])

        # Pushing the same files again changes nothing: every record is a duplicate.
        r = self.inst.run_adapter(self.inst.police, [h.SAMPLE_FILES[1]], timeout_s=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        for fn, rec, sid, rev, status, rest in h.parse_adapter_lines(r.stdout):
            self.assertEqual(status, "duplicate")
            self.assertEqual(int(rest), accepted[("police", sid, rev)])

        # The Hageby working group reads hageby/* and gets exactly the Hageby reports.
        r, entries = self.inst.run_feed(self.inst.hageby, topics=("hageby/*",), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        want = sorted(e.seq for es in stored.values() for e in es if e.report.area == "hageby")
        self.assertEqual([e.seq for e in entries], want)
        self.assertTrue(all(e.topic == "hageby/reports" for e in entries))
        self.assertGreaterEqual(len(want), 8)

        # Plain output: "seq topic org local-time summary", one line per entry.
        r, _ = self.inst.run_feed(self.inst.hageby, topics=("hageby/*",), from_seq=1, json_out=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), len(want))
        for line, seq in zip(lines, want):
            self.assertRegex(line, r"^%d hageby/reports (municipality|police|housing) \S.*\S \S" % seq)


if __name__ == "__main__":
    unittest.main()
