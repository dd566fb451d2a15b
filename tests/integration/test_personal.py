# SPDX-License-Identifier: Apache-2.0
"""No personal data in the shared log (issue 5, item 4): a real hub rejects reports whose
free-text fields hold a personal identity number (every spelling), a coordination number,
a phone number, an e-mail address or a registration plate, naming the field and the kind
and never echoing the text, and stores nothing of them; ordinary report text passes; with
`[privacy] personal_data = mask` the report is stored with labels instead, and a retry of
the unmasked report is a DUPLICATE of the masked one."""

import subprocess
import unittest

import harness as h

# Valid with the Luhn check digit (811218-9876 and 701063-2391 are Skatteverket's examples).
PNR_SPELLINGS = [
    "811218-9876",
    "8112189876",
    "19811218-9876",
    "198112189876",
    "811218 9876",
    "19811218 - 9876",
    "121212+1212",
]
COORDINATION = "701063-2391"
KIND_ID = "a Swedish personal identity number"


class Reject(h.HubTestCase):
    """The default, personal_data = reject."""

    def setUp(self):
        super().setUp()
        self.P = h.pb()

    def assertRejectedFor(self, res, field, kind, secret):
        self.assertEqual(res.status, self.P.STATUS_REJECTED, "%s must be rejected" % secret)
        self.assertTrue(res.error.startswith("%s: contains what looks like %s" % (field, kind)), res.error)
        self.assertIn("personal data must not be sent to the shared log", res.error)
        self.assertEqual(res.seq, 0)
        # Not echoed, not even in part.
        for piece in secret.replace("+", " ").replace("-", " ").split():
            if len(piece) >= 3:
                self.assertNotIn(piece, res.error)

    def test_personnummer_in_every_spelling_rejected_clean_neighbours_accepted(self):
        reports, expect = [], []
        for i, pnr in enumerate(PNR_SPELLINGS):
            reports.append(h.report())
            expect.append(None)
            field = ("description", "place", "reporter_role")[i % 3]
            text = {"description": "Vittne %s hörde bråk i trapphus 12." % pnr,
                    "place": "Hageby centrum, hos %s" % pnr,
                    "reporter_role": "anmälare %s" % pnr}[field]
            reports.append(h.report(**{field: text}))
            expect.append((field, KIND_ID, pnr))
        reports.append(h.report(description="Samordningsnummer %s angavs." % COORDINATION))
        expect.append(("description", "a Swedish coordination number", COORDINATION))
        reports.append(h.report())
        expect.append(None)
        ack = self.raw().request(reports, request_id=11)
        self.assertEqual(ack.error, "", "one bad report must not refuse the envelope")
        self.assertEqual(len(ack.results), len(reports))
        good = []
        for r, res, exp in zip(reports, ack.results, expect):
            if exp is None:
                self.assertEqual(res.status, self.P.STATUS_ACCEPTED, res.error)
                good.append(r.source_id)
            else:
                self.assertRejectedFor(res, *exp)
        stored = self.reports_in_log(self.inst.read_log())
        self.assertEqual(sorted(k[1] for k in stored), sorted(good), "only the clean ones are stored")
        for es in stored.values():
            for e in es:
                self.assertNotIn("9876", str(e.report))

    def test_other_kinds_named_with_their_field(self):
        cases = [
            ("place", "Utanför porten, ring 070-123 45 67", "a phone number", "070-123 45 67"),
            ("description", "Kontakta oss på +46 11 12 34 56.", "a phone number", "+46 11 12 34 56"),
            ("description", "Mejla anna.svensson@norrkoping.se om mer.", "an e-mail address",
             "anna.svensson@norrkoping.se"),
            ("description", "Bil ABC 123 stod kvar hela natten.", "a vehicle registration number", "ABC 123"),
            ("reporter_role", "väktare 011-12 34 56", "a phone number", "011-12 34 56"),
            ("subcategory", "bil_XYZ987", None, None),  # inside a word: not a plate
        ]
        c = self.raw()
        for i, (field, text, kind, secret) in enumerate(cases, 20):
            ack = c.request([h.report(**{field: text})], request_id=i)
            self.assertEqual(ack.error, "")
            if kind is None:
                self.assertEqual(ack.results[0].status, self.P.STATUS_ACCEPTED, ack.results[0].error)
            else:
                self.assertRejectedFor(ack.results[0], field, kind, secret)
        self.assertEqual(len(self.reports_in_log(self.inst.read_log())), 1)

    def test_ordinary_report_text_is_accepted_unchanged(self):
        texts = [
            "Observerat 2026-11-24 kl 22:15, gruppen skingrades kl 22-23.",
            "Trapphus 12 och Hageby centrum 3B, E4 och RV 51 avstängda v47.",
            "Skadegörelse för 1 500 kr, 602 23 Norrköping, år 2026, ärende 5000-K123456-26.",
            "Belysning trasig, SEK 500, lgh 1102, cirka 30 ungdomar, 20.40-21.10.",
        ]
        reports = [h.report(description=t) for t in texts]
        ack = self.raw().request(reports)
        self.assertAccepted(ack, len(texts))
        stored = self.reports_in_log(self.inst.read_log())
        for r in reports:
            self.assertEqual(stored[("municipality", r.source_id, 0)][0].report.description, r.description)

    def test_adapter_prints_the_reason(self):
        bad = h.report(description="Ring 070-123 45 67")
        r = self.inst.run_adapter(self.inst.muni, [self.inst.write_jsonl([h.report(), bad])])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = h.parse_adapter_lines(r.stdout)
        self.assertEqual([l[4] for l in lines], ["accepted", "rejected"])
        self.assertTrue(lines[1][5].startswith("description: contains what looks like a phone number"),
                        lines[1][5])
        self.assertNotIn("123 45 67", r.stdout + r.stderr)


class Mask(h.HubTestCase):
    """personal_data = mask: stored with labels, and the masked content is what idempotency compares."""

    def configure(self, inst):
        inst.conf_set("privacy", "personal_data", "mask")

    def setUp(self):
        super().setUp()
        self.P = h.pb()

    def test_stored_masked_and_a_retry_is_a_duplicate(self):
        r = h.report(description="Vittne 811218-9876 (tel 070-123 45 67, anna@x.se) såg bil ABC 123 köra.",
                     place="Hageby centrum, hos 19701063-2391",
                     reporter_role="fältassistent")
        clean = h.report()
        c = self.raw()
        ack = c.request([clean, r])
        self.assertAccepted(ack, 2)
        first = ack.results[1]
        stored = self.reports_in_log(self.inst.read_log())
        got = stored[("municipality", r.source_id, 0)][0].report
        self.assertEqual(got.description, "Vittne [personnummer] (tel [telefonnummer], [e-post]) såg bil "
                                          "[registreringsnummer] köra.")
        self.assertEqual(got.place, "Hageby centrum, hos [samordningsnummer]")
        self.assertEqual(got.reporter_role, "fältassistent")
        self.assertEqual(stored[("municipality", clean.source_id, 0)][0].report, clean, "clean one untouched")
        # The same unmasked report again: compared after masking, so a DUPLICATE with the first seq.
        res = c.request([r]).results[0]
        self.assertEqual(res.status, self.P.STATUS_DUPLICATE, res.error)
        self.assertEqual(res.seq, first.seq)
        # The log holds no trace of the numbers; est-feed --json shows the same.
        feed, entries = self.inst.run_feed(self.inst.admin, topics=("hageby/reports",), from_seq=1)
        self.assertEqual(feed.returncode, 0, feed.stderr)
        for secret in ("9876", "2391", "45 67", "anna@", "ABC 123"):
            self.assertNotIn(secret, feed.stdout)
        self.assertIn("[personnummer]", feed.stdout)
        self.assertEqual(len(self.reports_in_log(self.inst.read_log())), 2)


class Config(unittest.TestCase):
    def test_check_names_a_bad_mode(self):
        h.require_programs()
        inst = h.Instance()
        self.addCleanup(inst.cleanup)
        with open(inst.conf, encoding="utf-8") as f:
            self.assertIn("personal_data = reject", f.read(), "esthub init writes the default")
        inst.conf_set("privacy", "personal_data", "maybe")
        r = subprocess.run([h.ESTHUB, "check", inst.dir], capture_output=True, text=True,
                           timeout=h.RUN_TIMEOUT_S)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("privacy.personal_data: must be one of reject|mask", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
