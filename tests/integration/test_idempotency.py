# SPDX-License-Identifier: Apache-2.0
"""Duplicates and revisions: (org, source_id, revision) is stored at most once, judged in
the contract's order, each report of a batch on its own (a repeat inside one batch
against the earlier one)."""

import unittest

import harness as h


class Idempotency(h.HubTestCase):
    def setUp(self):
        super().setUp()
        self.P = h.pb()
        self.c = self.raw()

    def one(self, r, client=None):
        c = self.raw(client) if client else self.c
        ack = c.request([r])
        self.assertEqual(ack.error, "", ack.error)
        self.assertEqual(len(ack.results), 1)
        return ack.results[0]

    def assertStatus(self, res, status, error_re=None):
        names = {v.number: v.name for v in self.P.Status.DESCRIPTOR.values}
        self.assertEqual(names[res.status], names[status], res.error)
        if error_re:
            self.assertRegex(res.error, error_re)

    def test_same_content_again_is_duplicate_with_original_seq(self):
        r = h.report()
        first = self.one(r)
        self.assertStatus(first, self.P.STATUS_ACCEPTED)
        again = self.one(r)
        self.assertStatus(again, self.P.STATUS_DUPLICATE)
        self.assertEqual(again.seq, first.seq)
        # Also over a new connection and through est-adapter.
        res = self.raw(self.inst.muni).request([r]).results[0]
        self.assertStatus(res, self.P.STATUS_DUPLICATE)
        self.assertEqual(res.seq, first.seq)
        a = self.inst.run_adapter(self.inst.muni, [self.inst.write_jsonl([r])])
        self.assertEqual(a.returncode, 0, a.stderr)
        (_, _, sid, rev, status, rest), = h.parse_adapter_lines(a.stdout)
        self.assertEqual((sid, rev, status, int(rest)), (r.source_id, 0, "duplicate", first.seq))
        self.assertEqual(len(self.reports_in_log(self.inst.read_log())), 1, "stored once")

    def test_same_revision_other_content_is_rejected(self):
        r = h.report()
        first = self.one(r)
        changed = h.report(r.source_id, description="Annan text.")
        res = self.one(changed)
        self.assertStatus(res, self.P.STATUS_REJECTED, r"^revision.*0.*already stored with other content")
        self.assertEqual(len(self.reports_in_log(self.inst.read_log())), 1)
        stored = self.reports_in_log(self.inst.read_log())
        self.assertEqual(stored[("municipality", r.source_id, 0)][0].seq, first.seq)
        self.assertEqual(stored[("municipality", r.source_id, 0)][0].report, r, "the original content stays")

    def test_higher_revision_corrects_lower_is_rejected_old_is_still_duplicate(self):
        r0 = h.report()
        s0 = self.one(r0)
        r1 = h.report(r0.source_id, revision=1, severity=4, description="Rättelse.")
        s1 = self.one(r1)
        self.assertStatus(s1, self.P.STATUS_ACCEPTED)
        self.assertEqual(s1.seq, s0.seq + 1)
        # Revision 0 again, same content: a duplicate of the original, also with revision 1 stored.
        d = self.one(r0)
        self.assertStatus(d, self.P.STATUS_DUPLICATE)
        self.assertEqual(d.seq, s0.seq)
        # Gaps are allowed.
        r5 = h.report(r0.source_id, revision=5, severity=5)
        s5 = self.one(r5)
        self.assertStatus(s5, self.P.STATUS_ACCEPTED)
        # A revision lower than the highest stored, never seen: rejected.
        r3 = h.report(r0.source_id, revision=3)
        self.assertStatus(self.one(r3), self.P.STATUS_REJECTED, r"^revision")
        # ...and revision 0 with new content: rejected as other content.
        self.assertStatus(self.one(h.report(r0.source_id, description="Ny.")), self.P.STATUS_REJECTED,
                          r"already stored with other content")
        stored = self.reports_in_log(self.inst.read_log())
        self.assertEqual(sorted(k[2] for k in stored), [0, 1, 5])

    def test_withdrawal_is_a_revision(self):
        r0 = h.report()
        self.one(r0)
        w = h.report(r0.source_id, revision=1, withdrawn=True)
        res = self.one(w)
        self.assertStatus(res, self.P.STATUS_ACCEPTED)
        log = {e.seq: e for e in self.inst.read_log()}
        self.assertTrue(log[res.seq].report.withdrawn)

    def test_each_report_of_a_batch_judged_on_its_own_repeat_against_the_earlier(self):
        base = h.report()
        same = h.report(base.source_id)
        same.CopyFrom(base)
        other = h.report(base.source_id, description="Annat innehåll.")
        bad = h.report(category=None)
        fine = h.report()
        rev1 = h.report(base.source_id, revision=1)
        lower = h.report(base.source_id, revision=0, description="Efter rev 1.")
        ack = self.c.request([base, same, other, bad, fine, rev1, lower])
        self.assertEqual(ack.error, "")
        st = [x.status for x in ack.results]
        P = self.P
        self.assertEqual(st, [P.STATUS_ACCEPTED, P.STATUS_DUPLICATE, P.STATUS_REJECTED, P.STATUS_REJECTED,
                              P.STATUS_ACCEPTED, P.STATUS_ACCEPTED, P.STATUS_REJECTED],
                         [(x.status, x.error) for x in ack.results])
        self.assertEqual(ack.results[1].seq, ack.results[0].seq, "a repeat in the batch names the earlier seq")
        self.assertEqual(ack.results[4].seq, ack.results[0].seq + 1, "rejected reports take no seq")
        self.assertEqual(ack.results[5].seq, ack.results[0].seq + 2)
        self.assertTrue(ack.results[3].error.startswith("category:"))
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        self.assertEqual(len(self.reports_in_log(log)), 3)

    def test_organisations_do_not_collide(self):
        r = h.report("shared-id")
        a = self.one(r, self.inst.muni)
        b = self.one(r, self.inst.housing)
        self.assertStatus(a, self.P.STATUS_ACCEPTED)
        self.assertStatus(b, self.P.STATUS_ACCEPTED)
        c = self.one(h.report("shared-id", description="Annat."), self.inst.police)
        self.assertStatus(c, self.P.STATUS_ACCEPTED)

    def test_duplicates_survive_a_restart(self):
        r = h.report()
        first = self.one(r)
        self.assertEqual(self.inst.stop(), 0)
        self.inst.start()
        res = self.raw(self.inst.muni).request([r])
        self.assertStatus(res.results[0], self.P.STATUS_DUPLICATE)
        self.assertEqual(res.results[0].seq, first.seq)
        self.assertStatus(self.raw(self.inst.muni).request([h.report(r.source_id, description="x")]).results[0],
                          self.P.STATUS_REJECTED, "already stored with other content")


if __name__ == "__main__":
    unittest.main()
