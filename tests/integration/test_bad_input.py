# SPDX-License-Identifier: Apache-2.0
"""Bad input gets a clear error naming the field and the reason, leaves nothing
half-stored, and the hub keeps serving (the bad-input table of the issue)."""

import unittest

import harness as h

SECRET_TEXT = "Hemlig beskrivning 4711"


def bad_utf8(r, field_number, raw=b"Hageby \xff\xfe centrum \xc3"):
    """r serialized, with field field_number overwritten by invalid UTF-8 (last one wins)."""
    return r.SerializeToString() + h.field_bytes(field_number, raw)


class EnvelopeErrors(h.HubTestCase):
    def configure(self, inst):
        inst.conf_set("limits", "max_frame_bytes", "4096")
        inst.conf_set("limits", "max_reports_per_envelope", "5")

    def stored(self):
        return self.reports_in_log(self.inst.read_log())

    def assertStillServes(self, c):
        """The same connection still works, and so does another client."""
        self.assertAccepted(c.request([h.report()]), 1)
        self.assertAccepted(self.raw(self.inst.police).request([h.report()]), 1)

    def test_not_an_envelope(self):
        c = self.raw()
        for junk in (b"\x0a\x50short", b"\x0f\x00\x00", b"\xff" * 12):
            c.send_bytes(junk)
            ack = c.recv_ack(5)
            self.assertIsNotNone(ack, "the hub answers an undecodable frame (%r)" % junk)
            self.assertIn("could not decode", ack.error)
            self.assertEqual(len(ack.results), 0)
            self.assertEqual(ack.retry_after_ms, 0, "not a temporary refusal")
        self.assertEqual(self.stored(), {})
        self.assertStillServes(c)

    def test_wrong_version_names_the_versions_spoken(self):
        c = self.raw()
        for version in (0, 2, 1000):
            ack = c.request([h.report()], version=version, request_id=70 + version)
            self.assertIn("version", ack.error)
            self.assertRegex(ack.error, r"\b1\b", "names the version the hub speaks")
            self.assertEqual(len(ack.results), 0)
        self.assertEqual(self.stored(), {})
        self.assertStillServes(c)

    def test_oversized_frame_is_refused_with_the_limit(self):
        c = self.raw()
        big = [h.report(description="Lång beskrivning. " * 180)]  # about 3.4 KB each
        env = h.envelope(big * 1 + [h.report(description="x" * 1500)], request_id=5)
        data = env.SerializeToString()
        self.assertGreater(len(data), 4096)
        self.assertLess(len(data), 8192)
        c.send_bytes(data)
        ack = c.recv_ack(5)
        self.assertIsNotNone(ack, "an oversized frame gets an Ack, not silence")
        self.assertIn("max_frame_bytes", ack.error)
        self.assertIn("4096", ack.error)
        self.assertEqual(len(ack.results), 0)
        self.assertEqual(self.stored(), {})
        # Well past the limit (but under the socket's hard ceiling) still gets an Ack with the limit.
        huge = h.envelope([h.report(description="z" * 3900) for _ in range(4)], request_id=55)
        self.assertGreater(len(huge.SerializeToString()), 3 * 4096)
        c.send(huge)
        ack = c.recv_ack(5)
        self.assertIsNotNone(ack, "a frame nearly 4 times the limit gets an Ack, not silence")
        self.assertIn("4096", ack.error)
        # Just under the limit is fine.
        ok = h.envelope([h.report(description="y" * 3000)], request_id=6)
        self.assertLess(len(ok.SerializeToString()), 4096)
        self.assertAccepted(c.request_bytes(ok.SerializeToString(), 6), 1)
        self.assertStillServes(c)

    def test_a_giant_frame_does_not_hurt_the_hub(self):
        # Far above any limit libzmq may drop the connection; the hub stays up, stores nothing,
        # and the client (which reconnects by itself) is served again.
        c = self.raw()
        c.send_bytes(b"\x0a" + h.varint(2_000_000) + b"x" * 2_000_000)
        c.recv_ack(2)
        self.assertTrue(self.inst.hub.alive())
        ack = c.request([h.report()], request_id=77, timeout_s=10)
        self.assertAccepted(ack, 1)
        self.assertEqual(len(self.stored()), 1)

    def test_too_many_reports_is_refused_with_the_limit(self):
        c = self.raw()
        ack = c.request([h.report() for _ in range(6)])
        self.assertIn("max_reports_per_envelope", ack.error)
        self.assertIn("5", ack.error)
        self.assertEqual(len(ack.results), 0)
        self.assertEqual(self.stored(), {})
        self.assertAccepted(c.request([h.report() for _ in range(5)]), 5)

    def test_a_subscriber_may_not_send(self):
        c = self.raw(self.inst.hageby)
        ack = c.request([h.report()])
        self.assertIn("may not send", ack.error)
        self.assertEqual(len(ack.results), 0)
        self.assertEqual(self.stored(), {})


class ReportErrors(h.HubTestCase):
    """Every bad report is STATUS_REJECTED with 'field: reason'; the others of the batch are judged on their own."""

    def cases(self):
        P = h.pb()
        t = h.now()
        return [
            ("source_id", h.report("").SerializeToString()),
            ("source_id", h.report("x" * 300).SerializeToString()),
            ("category", h.report(category=None).SerializeToString()),
            ("category", h.report().SerializeToString() + h.field_varint(3, 99)),
            ("observed_at", h.report(observed_at=None).SerializeToString()),
            ("observed_at", h.report(observed_at=t + 10 * 86400).SerializeToString()),
            ("observed_at", h.report(observed_at=t * 1000).SerializeToString()),
            ("observed_at", h.report(observed_at=-5).SerializeToString()),
            ("area", h.report(area="storstan").SerializeToString()),
            ("area", h.report(area="").SerializeToString()),  # neither area nor position
            ("description", bad_utf8(h.report(), 13, SECRET_TEXT.encode() + b" \xff\xfe")),
            ("place", bad_utf8(h.report(), 6)),
            ("place", h.report(place="Hageby\x01centrum").SerializeToString()),
            ("severity", h.report(severity=9).SerializeToString()),
            ("people_count", h.report(people_count=5_000_000).SerializeToString()),
            ("position", h.report(area="", position=(123.0, 16.18)).SerializeToString()),
            ("position", h.report(position=(58.56, -200.0)).SerializeToString()),
            ("ends_at", h.report(category=P.CATEGORY_UPCOMING_EVENT, starts_at=t + 86400,
                                 ends_at=t + 3600).SerializeToString()),
            ("description", h.report(description="x" * 20000).SerializeToString()),
        ]

    def test_each_bad_report_rejected_with_field_and_reason_others_accepted(self):
        P = h.pb()
        cases = self.cases()
        blobs, expect = [], []
        for field, blob in cases:
            good = h.report()
            blobs += [good.SerializeToString(), blob]
            expect += [None, field]
        c = self.raw()
        ack = c.request_bytes(h.envelope_bytes(blobs, request_id=42), 42)
        self.assertEqual(ack.error, "", "one bad report must not sink the batch")
        self.assertEqual(len(ack.results), len(blobs))
        seqs = []
        for res, field in zip(ack.results, expect):
            if field is None:
                self.assertEqual(res.status, P.STATUS_ACCEPTED, res.error)
                seqs.append(res.seq)
            else:
                self.assertEqual(res.status, P.STATUS_REJECTED, "a bad %s must be rejected" % field)
                self.assertRegex(res.error, r"^%s(\.\w+)?: \S" % field, "error names the field, then why")
                self.assertEqual(res.seq, 0)
                self.assertNotIn(SECRET_TEXT, res.error, "errors do not echo content")
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "only the good ones take seqs")
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        self.assertEqual(sorted(e.seq for es in self.reports_in_log(log).values() for e in es), seqs)

    def test_each_bad_report_alone(self):
        # On its own too (a lone bad report does not refuse the envelope).
        P = h.pb()
        c = self.raw()
        for i, (field, blob) in enumerate(self.cases(), 100):
            ack = c.request_bytes(h.envelope_bytes([blob], request_id=i), i)
            self.assertEqual(ack.error, "")
            self.assertEqual(ack.results[0].status, P.STATUS_REJECTED, field)
            self.assertTrue(ack.results[0].error.startswith(field), (field, ack.results[0].error))
        self.assertEqual(self.reports_in_log(self.inst.read_log()), {})

    def test_bad_utf8_source_id_rejected_and_the_ack_still_valid_protobuf(self):
        # The Result echoes source_id: it must not carry the invalid bytes, or no conforming
        # protobuf implementation (Python, Java, Go) can read the Ack of the whole batch.
        P = h.pb()
        good = h.report()
        blobs = [good.SerializeToString(), h.report().SerializeToString() + h.field_bytes(1, b"id-\xc0\xaf\xff")]
        c = self.raw()
        c.send_bytes(h.envelope_bytes(blobs, request_id=7))
        self.assertTrue(c.sock.poll(int(5000 * h.SLOW)), "no Ack")
        data = c.sock.recv()
        ack = P.Ack()
        try:
            ack.ParseFromString(data)
        except Exception as e:
            self.fail("the Ack is not valid protobuf (a string field holds invalid UTF-8): %s" % e)
        self.assertEqual(ack.results[0].status, P.STATUS_ACCEPTED)
        self.assertEqual(ack.results[1].status, P.STATUS_REJECTED)
        self.assertTrue(ack.results[1].error.startswith("source_id: "), ack.results[1].error)

    def test_adapter_prints_the_reason_and_exits_1(self):
        good1, bad, good2 = h.report(), h.report(severity=7), h.report()
        f = self.inst.write_jsonl([good1, bad, good2])
        r = self.inst.run_adapter(self.inst.muni, [f])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = h.parse_adapter_lines(r.stdout)
        self.assertEqual([l[4] for l in lines], ["accepted", "rejected", "accepted"])
        self.assertTrue(lines[1][5].startswith("severity: "), lines[1][5])
        self.assertEqual(lines[1][2], bad.source_id)


if __name__ == "__main__":
    unittest.main()
