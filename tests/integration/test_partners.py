# SPDX-License-Identifier: Apache-2.0
"""The three partner adapters against a real hub, each configured by its own configuration file
(--config, checked with --check) and fed the bundled samples (config/sample/partners/) in its
own way: the municipality's weekly CSV dropped into a watched directory, the police's events
feed POSTed to the HTTP endpoint, the housing company's Open311 export given on the command line.
The hub is away while they feed and comes back: everything arrives once. What the log holds is
checked against the samples read here independently: source ids, categories by the configured
tables, areas (named, or assigned by the hub from the position), Open311 revisions from
updated_datetime; feeding everything again changes nothing."""

import csv
import io
import json
import os
import re
import subprocess
import threading
import time
import unittest
from datetime import datetime
from zoneinfo import ZoneInfo

import harness as h

PARTNERS = os.path.join(h.SOURCE_DIR, "config", "sample", "partners")
CONFIGS = os.path.join(h.SOURCE_DIR, "config", "adapters")
CSV_SAMPLE = os.path.join(PARTNERS, "kommunen-v47.csv")
POLICE_SAMPLE = os.path.join(PARTNERS, "polisen-v47.json")
OPEN311_SAMPLE = os.path.join(PARTNERS, "hyresbostader-v47.json")
AREA_NAMES = {"marielund": "marielund", "hageby": "hageby", "navestad": "navestad",
              "klockaretorpet": "klockaretorpet", "norrköping city": "city", "city": "city"}


def fold(s):
    return " ".join(s.split()).casefold()


def shipped_categories(conf):
    """The [categories] lines of a shipped configuration, in order: [(value, rule)]."""
    rules, section = [], None
    with open(os.path.join(CONFIGS, conf), encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            if s.startswith("["):
                section = s.strip("[]")
            elif section == "categories":
                k, v = s.split("=", 1)
                rules.append((k.strip(), v.split(";")[0].strip()))
    return rules


def lookup(rules, value):
    """The rule for value as mapping.h compares (case, spaces), the default rule "*" else; None."""
    table = {fold(k): v for k, v in rules}
    return table.get(fold(value), table.get("*"))


def category_of(rule):
    return "CATEGORY_" + rule.split("/")[0].upper()


class Partners(h.HubTestCase):
    fixed_ports = True

    def write_conf(self, name, client, fmt, rules, watch=None, listen=None, areas=()):
        path = os.path.join(self.inst.tmp, name + ".conf")
        lines = ["# written by test_partners", "[hub]", "endpoint = " + self.inst.ingest,
                 "hub_cert = " + self.inst.hub_cert, "cert = " + client.secret, "",
                 "[adapter]", "format = " + fmt, "outbox = " + name + ".outbox", ""]
        if watch:
            lines += ["[watch]", "dir = " + watch, ""]
        if listen:
            lines += ["[listen]", "address = " + listen, ""]
        lines += ["[categories]"] + ["%s = %s" % r for r in rules] + [""]
        lines += ["[areas]"] + ["%s = %s" % a for a in areas] + [""]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        return path

    def check(self, conf):
        r = subprocess.run([h.EST_ADAPTER, "--check", conf], capture_output=True, text=True, timeout=30)
        return r

    def test_three_partners_across_a_hub_restart(self):
        drop = os.path.join(self.inst.tmp, "kommunen-drop")
        os.mkdir(drop)
        police_rules = [(k, "skip" if fold(k) == fold("Övrigt") else v)
                        for k, v in shipped_categories("police.conf")]
        muni_rules = shipped_categories("municipality.conf")
        housing_rules = shipped_categories("housing.conf")
        muni_conf = self.write_conf("kommunen", self.inst.muni, "municipality-csv", muni_rules, watch=drop,
                                    areas=[("Gamla stan", "city")])
        police_conf = self.write_conf("polisen", self.inst.police, "police-json", police_rules,
                                      listen="127.0.0.1:%d" % h.free_port())
        # Its [listen] is not served when FILEs are given: the run delivers them and ends.
        housing_conf = self.write_conf("hyresbostader", self.inst.housing, "open311", housing_rules,
                                       listen="127.0.0.1:%d" % h.free_port())
        for conf in (muni_conf, police_conf, housing_conf):
            r = self.check(conf)
            self.assertEqual((r.returncode, r.stdout), (0, "configuration OK\n"), r.stdout + r.stderr)

        muni = h.ServingAdapter(self.inst, self.inst.muni, "kommunen", config=muni_conf, ready=["watching"])
        police = h.ServingAdapter(self.inst, self.inst.police, "polisen", config=police_conf,
                                  ready=["listening on"], extra=["--listen-wait", "1"])
        self.assertTrue(os.path.exists(os.path.join(self.inst.tmp, "kommunen.outbox")),
                        "the outbox named in the configuration, relative to its file")

        # The hub goes away; the partners deliver anyway.
        self.assertEqual(self.inst.stop(), 0)
        with open(CSV_SAMPLE, encoding="utf-8-sig") as f:
            csv_text = f.read()
        extra_row = self.csv_row_with_area(csv_text, "kom-test-alias", "Gamla stan")
        h.drop_file(drop, "kommunen-v47.csv", "\ufeff" + csv_text)
        h.drop_file(drop, "kommunen-alias.csv", extra_row)
        with open(POLICE_SAMPLE, encoding="utf-8") as f:
            police_body = f.read()
        status, _, text = h.http_request(police.port, police_body)
        self.assertEqual(status, 202, text)
        first_answer = json.loads(text)
        self.assertTrue(all(r["status"] in ("queued", "skipped") for r in first_answer), first_answer)
        housing_argv = [h.EST_ADAPTER, "--config", housing_conf, "--timeout", "60", OPEN311_SAMPLE]
        housing_run = {}
        t = threading.Thread(target=lambda: housing_run.update(r=subprocess.run(
            housing_argv, cwd=self.inst.tmp, capture_output=True, text=True, timeout=120)), daemon=True)
        t.start()
        time.sleep(3)
        self.assertEqual(sorted(n for n in os.listdir(drop) if n.endswith(".csv")),
                         ["kommunen-alias.csv", "kommunen-v47.csv"], "waiting for the hub")
        self.inst.start()

        h.wait_until(lambda: sorted(os.listdir(os.path.join(drop, "done"))) ==
                     ["kommunen-alias.csv", "kommunen-v47.csv"], 30 * h.SLOW,
                     what=lambda: "the CSV files in done/ (%s)" % sorted(os.listdir(drop)))
        t.join(90 * h.SLOW)
        r = housing_run["r"]
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        n_police = len([e for e in first_answer if e["status"] == "queued"])
        h.wait_until(lambda: len([l for l in police.outcomes() if l[4] == "accepted"]) == n_police,
                     30 * h.SLOW, what="the queued police events accepted")

        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        self.check_municipality(log, csv_text, muni_rules)
        self.check_police(log, police_body, police_rules)
        self.check_housing(log, housing_rules)
        self.check_housing_lines()
        head = h.last_data_seq(log)

        # Everything again: the same outcomes, nothing new in the log.
        status, _, text = h.http_request(police.port, police_body)
        self.assertEqual(status, 200, text)
        again = json.loads(text)
        self.assertEqual([(e["sourceId"], e["status"]) for e in again],
                         [(e["sourceId"], "accepted" if e["status"] == "queued" else e["status"])
                          for e in first_answer])
        h.drop_file(drop, "kommunen-v47.csv", "\ufeff" + csv_text)
        h.wait_until(lambda: os.path.exists(os.path.join(drop, "done", "kommunen-v47.csv.1")), 20 * h.SLOW,
                     what="the CSV again in done/")
        r = subprocess.run(housing_argv, cwd=self.inst.tmp, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(muni.stop(), 0)
        self.assertEqual(police.stop(), 0)
        self.assertEqual(h.last_data_seq(self.inst.read_log()), head, "nothing new in the log")

    def test_a_broken_configuration_is_named_by_line(self):
        conf = self.write_conf("broken", self.inst.police, "police-json", [("Bråk", "brawl")])
        r = self.check(conf)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"broken\.conf:\d+: categories")
        r = subprocess.run([h.EST_ADAPTER, "--config", conf, "--watch", self.inst.tmp],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, "a configuration with problems is a usage error")
        self.assertIn("broken.conf", r.stderr)

    # -- expectations, from the samples -------------------------------------

    @staticmethod
    def csv_row_with_area(csv_text, source_id, area_name):
        rows = list(csv.reader(io.StringIO(csv_text, newline=""), delimiter=";"))
        header, row = rows[0], list(rows[1])
        row[header.index("rapport_id")] = source_id
        row[header.index("omrade")] = area_name
        out = io.StringIO()
        w = csv.writer(out, delimiter=";", lineterminator="\r\n")
        w.writerow(header)
        w.writerow(row)
        return out.getvalue()

    def entries(self, log, org):
        return {e.report.source_id: [x for x in log if x.WhichOneof("body") == "report" and x.org == org
                                     and x.report.source_id == e.report.source_id]
                for e in log if e.WhichOneof("body") == "report" and e.org == org}

    def assertArea(self, e, named=None):
        P = h.pb()
        if named:
            self.assertEqual(e.report.area, named, e.report.source_id)
        else:
            where = h.locate(self.areas, e.report.position.lat, e.report.position.lon)
            self.assertEqual(e.report.area, where, "%s: the hub's area from the position" % e.report.source_id)
        self.assertEqual(e.topic, e.report.area + "/reports")
        self.assertNotEqual(e.report.category, P.CATEGORY_UNSPECIFIED)

    def setUp(self):
        super().setUp()
        self.areas = h.load_areas(os.path.join(self.inst.dir, "areas.geojson"))

    def check_municipality(self, log, csv_text, rules):
        P = h.pb()
        rows = list(csv.DictReader(io.StringIO(csv_text, newline=""), delimiter=";"))
        got = self.entries(log, "municipality")
        want_ids = {r["rapport_id"] for r in rows} | {"kom-test-alias"}
        self.assertEqual(set(got), want_ids, "every CSV row, nothing else")
        for r in rows:
            es = got[r["rapport_id"]]
            self.assertEqual(len(es), 1)
            e = es[0]
            self.assertEqual(e.report.revision, 0, "a CSV has no revisions of its own: the first is 0")
            self.assertEqual(P.Category.Name(e.report.category), category_of(lookup(rules, r["kategori"])),
                             r["rapport_id"])
            self.assertTrue(e.report.HasField("position") or r["omrade"], r["rapport_id"])
            self.assertArea(e, AREA_NAMES[fold(r["omrade"])] if r["omrade"] else None)
        self.assertEqual(got["kom-test-alias"][0].report.area, "city", "[areas] Gamla stan = city")

    def check_police(self, log, body, rules):
        P = h.pb()
        events = json.loads(body)
        got = self.entries(log, "police")
        want = {str(ev["id"]): ev for ev in events
                if not ev["type"].startswith("Sammanfattning") and lookup(rules, ev["type"]) != "skip"}
        self.assertEqual(set(got), set(want), "every event but summaries and skipped types")
        self.assertTrue(any(ev["type"] == "Övrigt" for ev in events), "the sample has Övrigt, skipped here")
        for sid, ev in want.items():
            e = got[sid][0]
            self.assertEqual(len(got[sid]), 1)
            self.assertEqual(P.Category.Name(e.report.category), category_of(lookup(rules, ev["type"])), sid)
            lat, lon = (float(x) for x in ev["location"]["gps"].split(","))
            self.assertAlmostEqual(e.report.position.lat, lat, places=6)
            self.assertAlmostEqual(e.report.position.lon, lon, places=6)
            self.assertArea(e)

    def check_housing(self, log, rules):
        P = h.pb()
        with open(OPEN311_SAMPLE, encoding="utf-8") as f:
            reqs = json.load(f)
        got = self.entries(log, "housing")
        want = {}
        for q in reqs:
            if lookup(rules, q["service_code"]) not in (None, "skip"):
                want.setdefault(q["service_request_id"], set()).add(
                    int(datetime.fromisoformat(q["updated_datetime"]).timestamp()))
        self.assertEqual(set(got), set(want), "every EST request, not the dripping tap")
        self.assertTrue(any(len(v) > 1 for v in want.values()), "the sample updates a request")
        for sid, revisions in want.items():
            self.assertEqual(sorted(e.report.revision for e in got[sid]), sorted(revisions),
                             "%s: one revision per updated_datetime" % sid)
            code = next(q["service_code"] for q in reqs if q["service_request_id"] == sid)
            for e in got[sid]:
                self.assertEqual(P.Category.Name(e.report.category), category_of(lookup(rules, code)), sid)
                self.assertArea(e)

    def check_housing_lines(self):
        """est-feed's plain line shows an Open311 revision as the update time it is, in Stockholm."""
        with open(OPEN311_SAMPLE, encoding="utf-8") as f:
            reqs = json.load(f)
        stockholm = ZoneInfo("Europe/Stockholm")
        want = sorted({datetime.fromisoformat(q["updated_datetime"]).astimezone(stockholm)
                       .strftime("%Y-%m-%d %H:%M") for q in reqs})
        argv = self.inst.feed_argv(self.inst.admin, topics=("*/reports",), from_seq=1, json_out=False)
        r = subprocess.run(argv, cwd=self.inst.tmp, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60 * h.SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stdout.splitlines() if l.split(" ")[2:3] == ["housing"]]
        self.assertTrue(lines, r.stdout)
        shown = []
        for l in lines:
            m = re.search(r" \(uppdaterad (\d{4}-\d\d-\d\d \d\d:\d\d)\)", l)
            self.assertIsNotNone(m, "an Open311 revision as its update time: " + l)
            self.assertNotIn("(rev ", l)
            shown.append(m[1])
        self.assertTrue(set(shown) <= set(want), (shown, want))
        self.assertGreater(len(set(shown)), 1, "the sample's requests were updated at different times")


if __name__ == "__main__":
    unittest.main()
