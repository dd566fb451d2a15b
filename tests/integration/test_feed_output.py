# SPDX-License-Identifier: Apache-2.0
"""What est-feed makes of real pictures for people: a real hub ingests the sample week, compiles
2026-W47, and est-feed --html/--csv/--geojson/--summary --until-head writes the files. The HTML
pages are opened in headless Chromium (no console errors, a non-blank A4-sized screenshot, the
figures in the DOM), the CSV is read back with Python's csv module as Swedish Excel would, and the
GeoJSON is checked against RFC 7946. The expected figures are counted here from the input files."""

import collections
import csv
import datetime
import glob
import html.parser
import json
import os
import shutil
import struct
import subprocess
import unittest
import zlib
from zoneinfo import ZoneInfo

import harness as h

TZ = ZoneInfo("Europe/Stockholm")
WEEK_START = int(datetime.datetime(2026, 11, 16, tzinfo=TZ).timestamp())
WEEK_END = int(datetime.datetime(2026, 11, 23, tzinfo=TZ).timestamp())
AREA_NAMES = {"marielund": "Marielund", "hageby": "Hageby", "navestad": "Navestad",
              "klockaretorpet": "Klockaretorpet", "city": "Norrköping city", "all": "Hela kommunen"}
CATEGORY_SV = {"gathering": "Samling som skapar oro", "vandalism": "Skadegörelse", "unsafe_place": "Otrygg plats",
               "upcoming_event": "Kommande händelse", "disorder": "Ordningsstörning",
               "staff_incident": "Händelse mot personal", "rumour": "Rykte", "other": "Övrigt"}
CHROMIUM = shutil.which("chromium")


def expected_reports():
    """{area: {category key: current reports of 2026-W47}} counted from config/sample/week, as
    docs/pictures.md defines them: the highest revision per (org, source_id), not withdrawn,
    observed in the week; a report without an area lies where its position does."""
    P = h.pb()
    areas = h.load_areas()
    latest = {}
    for path in h.SAMPLE_FILES:
        org = h.SAMPLE_ORGS[os.path.basename(path)]
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = P.Report()
                h.json_format().Parse(line, r)
                k = (org, r.source_id)
                if k not in latest or r.revision > latest[k].revision:
                    latest[k] = r
    out = collections.defaultdict(collections.Counter)
    for r in latest.values():
        if r.withdrawn or not WEEK_START <= r.observed_at < WEEK_END:
            continue
        area = r.area or h.locate(areas, r.position.lat, r.position.lon)
        key = P.Category.Name(r.category)[len("CATEGORY_"):].lower()
        out[area][key] += 1
        out["all"][key] += 1
    return out


def sv_number(v, decimals=2):
    s = ("%.*f" % (decimals, v)).rstrip("0").rstrip(".") if decimals else "%d" % round(v)
    return "0" if s == "-0" else s.replace(".", ",")


class Dom(html.parser.HTMLParser):
    """The figures of a page: category rows (by data-category: {cell class: text}), the h1, the
    priority and rank, and every text."""

    def __init__(self):
        super().__init__()
        self.rows, self.h1, self.priority, self.rank, self.texts = {}, "", None, None, []
        self._row = self._cell = None
        self._in = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-category" in a:
            self._row = self.rows.setdefault(a["data-category"], {})
        elif tag == "td" and self._row is not None:
            self._cell = (a.get("class") or "").replace("n ", "").strip()
            self._row[self._cell] = ""
        elif tag == "h1":
            self._in = "h1"
        elif tag == "strong" and a.get("class") in ("priority", "rank"):
            self._in = a["class"]
            setattr(self, self._in, "")

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None
        elif tag == "td":
            self._cell = None
        elif tag in ("h1", "strong"):
            self._in = None

    def handle_data(self, data):
        self.texts.append(data)
        if self._row is not None and self._cell:
            self._row[self._cell] += data
        if self._in == "h1":
            self.h1 += data
        elif self._in in ("priority", "rank"):
            setattr(self, self._in, getattr(self, self._in) + data)


def png_is_not_blank(path, width, height, max_common):
    """Reads the PNG by hand (no imaging library on the test machine): its size, and whether
    its pixels vary (a blank page is one colour): more than 20 distinct byte values, and the most
    common one at most max_common of them all."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False, "not a PNG"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if size != (width, height):
        return False, "size %s, not %dx%d" % (size, width, height)
    raw = zlib.decompress(idat)
    # Filter bytes aside, a blank page is the same few bytes again and again.
    counts = collections.Counter(raw[::7])
    common = counts.most_common(1)[0][1] / sum(counts.values())
    return len(counts) > 20 and common <= max_common, "%d distinct bytes, most common %.3f" % (len(counts), common)


class FeedOutput(h.HubTestCase):
    def setUp(self):
        super().setUp()
        clients = {"municipality.jsonl": self.inst.muni, "police.jsonl": self.inst.police,
                   "housing.jsonl": self.inst.housing}
        for path in h.SAMPLE_FILES:
            r = self.inst.run_adapter(clients[os.path.basename(path)], [path], timeout_s=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.inst.estctl("picture", "compile", "--week", "2026-W47", check=True)
        self.out = os.path.join(self.inst.tmp, "out")

    def feed(self, *extra, client=None):
        argv = self.inst.feed_argv(client or self.inst.admin, topics=("*/pictures",), from_seq=1,
                                   json_out=False) + list(extra)
        return subprocess.run(argv, cwd=self.inst.tmp, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=60 * h.SLOW)

    def pictures(self):
        r, entries = self.inst.run_feed(self.inst.admin, topics=("*/pictures",), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {e.picture.area: e.picture for e in entries}

    def test_pages_csv_and_geojson_of_the_sample_week(self):
        html_dir, csv_dir, gj_dir = (os.path.join(self.out, d) for d in ("html", "csv", "geojson"))
        r = self.feed("--html", html_dir, "--csv", csv_dir, "--geojson", gj_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Lines are printed as without the options: one per picture.
        self.assertEqual(len([l for l in r.stdout.splitlines() if "lägesbild 2026-W47" in l]), 6, r.stdout)
        pics = self.pictures()
        want = expected_reports()
        areas = sorted(AREA_NAMES)
        self.assertEqual(sorted(pics), areas)
        self.assertEqual(sorted(os.listdir(html_dir)),
                         sorted(["index.html"] + ["2026-W47-%s.html" % a for a in areas]))
        for area in areas:
            self.check_csv(os.path.join(csv_dir, "2026-W47-%s.csv" % area), area, want[area], pics[area])
            self.check_places_csv(os.path.join(csv_dir, "2026-W47-%s-places.csv" % area), pics[area])
            self.check_geojson(os.path.join(gj_dir, "2026-W47-%s.geojson" % area), area, want, pics[area])
            with open(os.path.join(html_dir, "2026-W47-%s.html" % area), encoding="utf-8") as f:
                page = f.read()
            self.check_page_source(page)
        with open(os.path.join(html_dir, "index.html"), encoding="utf-8") as f:
            index = f.read()
        for area in areas:
            self.assertIn('href="2026-W47-%s.html"' % area, index)
        if CHROMIUM is None:
            self.skipTest("chromium is not installed (scripts/install-deps.sh installs it): the pages "
                          "were checked as text only, not opened in a browser")
        for area in ("hageby", "all", "city"):
            self.check_in_chromium(os.path.join(html_dir, "2026-W47-%s.html" % area), area, want[area], pics[area])
        self.check_in_chromium(os.path.join(html_dir, "index.html"), None, None, None)

    def check_page_source(self, page):
        # Self-contained: no scripts, no external styles, fonts or images.
        for bad in ("<script", "<link", "src=", "@import", "url(http", "url(//"):
            self.assertNotIn(bad, page)
        self.assertIn("@page{size:A4", page)

    def check_csv(self, path, area, want, pic):
        with open(path, "rb") as f:
            raw = f.read()
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), "%s: no UTF-8 BOM" % path)
        self.assertTrue(raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), "%s: not CRLF" % path)
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        self.assertEqual(rows[0], ["Område", "Vecka", "Kategori", "Rapporter", "Händelser", "Föregående vecka",
                                   "Baslinje (snitt 8 veckor)"])
        got = {}
        for row in rows[1:]:
            self.assertEqual(len(row), 7, row)
            self.assertEqual(row[0], AREA_NAMES[area])
            self.assertEqual(row[1], "2026-W47")
            got[row[2]] = row
        # Every category with reports is there with the count computed from the input files.
        for key, n in want.items():
            self.assertEqual(int(got[CATEGORY_SV[key]][3]), n, "%s %s" % (area, key))
        # The other figures as the picture has them, baseline with a decimal comma.
        P = h.pb()
        for c in pic.categories:
            row = got[CATEGORY_SV[P.Category.Name(c.category)[9:].lower()]]
            self.assertEqual((int(row[4]), int(row[5])), (c.incidents, c.previous_week))
            self.assertEqual(row[6], sv_number(c.baseline, 3))
        self.assertEqual(len(rows) - 1, len(pic.categories))

    def check_places_csv(self, path, pic):
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        self.assertEqual(len(rows[0]), 14)
        hot = [r for r in rows[1:] if r[2] == "brännpunkt"]
        self.assertEqual(len(hot), len(pic.hotspots))
        for row, hs in zip(hot, pic.hotspots):
            self.assertEqual(len(row), 14)
            self.assertEqual(int(row[6]), hs.incidents)
            if hs.HasField("position"):
                self.assertAlmostEqual(float(row[4].replace(",", ".")), hs.position.lat, places=5)

    def check_geojson(self, path, area, want, pic):
        with open(path, encoding="utf-8") as f:
            gj = json.load(f)
        self.assertEqual(gj["type"], "FeatureCollection")
        polys = [f for f in gj["features"] if f["properties"]["feature"] == "area"]
        points = [f for f in gj["features"] if f["properties"]["feature"] == "hotspot"]
        for f in gj["features"]:
            self.assertEqual(f["type"], "Feature")
            g = f["geometry"]
            coords = [g["coordinates"]] if g["type"] == "Point" else \
                [p for ring in g["coordinates"] for p in ring] if g["type"] == "Polygon" else \
                [p for poly in g["coordinates"] for ring in poly for p in ring]
            for lon, lat in coords:
                # Norrköping: lon about 16, lat about 58.6, in that order.
                self.assertTrue(15.5 < lon < 16.8 and 58.2 < lat < 58.9, (lon, lat))
        if area == "all":
            self.assertEqual(sorted(f["properties"]["area"] for f in polys), sorted(a for a in AREA_NAMES if a != "all"))
        else:
            self.assertEqual(len(polys), 1)
            props = polys[0]["properties"]
            self.assertEqual(props["area"], area)
            self.assertEqual(props["reports"], sum(want[area].values()))
            self.assertEqual(props["rank"], pic.rank)
            self.assertAlmostEqual(props["priority_score"], pic.priority_score, places=6)
            ring = polys[0]["geometry"]["coordinates"][0]
            self.assertEqual(ring[0], ring[-1])
        self.assertEqual(len(points), sum(1 for hs in pic.hotspots if hs.HasField("position")))
        for f, hs in zip(points, [hs for hs in pic.hotspots if hs.HasField("position")]):
            self.assertEqual(f["properties"]["incidents"], hs.incidents)
            self.assertAlmostEqual(f["geometry"]["coordinates"][0], hs.position.lon, places=6)

    def chromium(self, *args):
        profile = os.path.join(self.inst.tmp, "chromium-profile")
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
                "--enable-logging=stderr", "--v=0", "--no-first-run", "--disable-extensions"] + list(args)
        return subprocess.run(argv, cwd=self.inst.tmp, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=60 * h.SLOW)

    def check_in_chromium(self, path, area, want, pic):
        url = "file://" + path
        r = self.chromium("--dump-dom", url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        console = [l for l in r.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
        self.assertEqual(console, [], "%s: console messages:\n%s" % (path, "\n".join(console)))
        dom = Dom()
        dom.feed(r.stdout)
        shot = os.path.join(self.inst.tmp, os.path.basename(path) + ".png")
        r = self.chromium("--screenshot=" + shot, "--window-size=1240,1754", "--hide-scrollbars", url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        # A picture's page is full of charts and tables; the index is a short list of links.
        ok, why = png_is_not_blank(shot, 1240, 1754, 0.98 if area else 0.9995)
        self.assertTrue(ok, "%s: screenshot looks blank: %s" % (path, why))
        if area is None:
            self.assertIn("Lägesbilder", dom.texts)
            return
        self.assertIn(AREA_NAMES[area], dom.h1)
        self.assertIn("vecka 47, 2026", dom.h1)
        for key, n in want.items():
            self.assertIn(key, dom.rows, "%s: no row for %s" % (path, key))
            self.assertEqual(dom.rows[key]["reports"], str(n), "%s: %s" % (path, key))
        self.assertEqual(dom.priority, sv_number(pic.priority_score))
        if pic.rank > 0:
            self.assertEqual(dom.rank, "%d av %d" % (pic.rank, pic.ranked_areas))

    def test_summary_english_and_areas_file(self):
        r = self.feed("--summary")
        self.assertEqual(r.returncode, 0, r.stderr)
        pics = self.pictures()
        blocks = [b for b in r.stdout.split("\n\n") if b.strip()]
        self.assertEqual(len(blocks), 6, r.stdout)
        # Ranked: the areas by rank, the whole municipality last.
        firsts = [b.splitlines()[0] for b in blocks]
        ranked = sorted((p for a, p in pics.items() if a != "all"), key=lambda p: (p.rank, p.area))
        self.assertEqual([f.split(",")[0] for f in firsts],
                         [AREA_NAMES[p.area] for p in ranked] + ["Hela kommunen"])
        for f, p in zip(firsts, ranked):
            self.assertIn("rang %d av %d, prioritetspoäng %s" % (p.rank, p.ranked_areas, sv_number(p.priority_score)), f)
        # English, and an instance's own areas file with another name for Hageby.
        with open(os.path.join(self.inst.dir, "areas.geojson"), encoding="utf-8") as f:
            areas = json.load(f)
        for feat in areas["features"]:
            if feat["properties"]["id"] == "hageby":
                feat["properties"]["name"] = "Hageby <centrum>"
        own = os.path.join(self.inst.tmp, "own-areas.geojson")
        with open(own, "w", encoding="utf-8") as f:
            json.dump(areas, f)
        html_dir, csv_dir = os.path.join(self.out, "en"), os.path.join(self.out, "en-csv")
        r = self.feed("--html", html_dir, "--csv", csv_dir, "--lang", "en", "--areas", own,
                      client=self.inst.hageby)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(html_dir)), ["2026-W47-all.html", "2026-W47-hageby.html", "index.html"])
        with open(os.path.join(html_dir, "2026-W47-hageby.html"), encoding="utf-8") as f:
            page = f.read()
        self.assertIn("Situational picture Hageby &lt;centrum&gt;, week 47, 2026", page)
        self.assertNotIn("Hageby <centrum>", page)
        with open(os.path.join(csv_dir, "2026-W47-hageby.csv"), encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
        self.assertEqual(rows[0][:3], ["Area", "Week", "Category"])
        self.assertEqual({r[0] for r in rows[1:]}, {"Hageby <centrum>"})

    def test_lines_of_the_sample_week_in_swedish_and_english(self):
        """The plain line an entry (no --json): Swedish words by default, English with --lang en;
        the partners' own words and the ids the same in both."""
        argv = self.inst.feed_argv(self.inst.admin, topics=("hageby/*",), from_seq=1, json_out=False)
        runs = {}
        for lang in ("sv", "en"):
            r = subprocess.run(argv + (["--lang", "en"] if lang == "en" else []), cwd=self.inst.tmp,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60 * h.SLOW)
            self.assertEqual(r.returncode, 0, r.stderr)
            runs[lang] = r.stdout.splitlines()
        self.assertEqual(len(runs["sv"]), len(runs["en"]))
        when = r"\d{4}-\d\d-\d\d \d\d:\d\d"
        reports = [(sv, en) for sv, en in zip(runs["sv"], runs["en"]) if " hageby/reports " in sv]
        self.assertGreaterEqual(len(reports), 10, "\n".join(runs["sv"]))
        for sv, en in reports:
            self.assertRegex(sv, r" observerad %s(: | \()" % when)
            self.assertRegex(en, r" observed %s(: | \()" % when)
            # seq, topic, org, local time: the same; the partner's text is never translated.
            self.assertEqual(sv.split(" ")[:5], en.split(" ")[:5])
            self.assertEqual(sv.split(": ", 1)[1], en.split(": ", 1)[1])
        pic_sv = [l for l in runs["sv"] if " hageby/pictures " in l]
        pic_en = [l for l in runs["en"] if " hageby/pictures " in l]
        self.assertEqual(len(pic_sv), 1, "\n".join(runs["sv"]))
        self.assertRegex(pic_sv[0], r"lägesbild 2026-W47 hageby rang \d+ prioritet \d+,\d\d t\.o\.m\. seq \d+$")
        self.assertRegex(pic_en[0], r"picture 2026-W47 hageby rank \d+ priority \d+\.\d\d through seq \d+$")
        self.assertFalse([l for l in runs["en"] if "observerad" in l or "lägesbild" in l], runs["en"])

    def test_errors_name_the_path_and_why(self):
        blocker = os.path.join(self.inst.tmp, "a-file")
        with open(blocker, "w") as f:
            f.write("x")
        r = self.feed("--html", blocker)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s: not a directory" % blocker, r.stderr)
        r = self.feed("--csv", os.path.join(blocker, "csv"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s: not a directory" % blocker, r.stderr)
        r = self.feed("--areas", os.path.join(self.inst.tmp, "missing.geojson"), "--html", self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.geojson: cannot open: No such file or directory", r.stderr)
        r = self.feed("--lang", "de")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--lang: \"de\" is not a language", r.stderr)
        # A directory that cannot be written: the page's path and the reason, exit 2.
        ro = os.path.join(self.inst.tmp, "ro")
        os.mkdir(ro, 0o555)
        if os.access(ro, os.W_OK):
            return  # root writes anyway; the unit test covers the failed write
        r = self.feed("--html", ro)
        self.assertEqual(r.returncode, 2)
        self.assertIn(ro, r.stderr)


if __name__ == "__main__":
    unittest.main()
