# SPDX-License-Identifier: Apache-2.0
"""No one gets in who was not let in: uncertified keys get no connection at all; a
revoked key is refused within 2 s on its open connection, its feeds end, and new
handshakes with it fail."""

import re
import time
import unittest

import harness as h

NO_ANSWER_S = 2.0


class Uncertified(h.HubTestCase):
    def test_raw_ingest_client_gets_no_answer(self):
        c = self.raw(cert=self.inst.uncertified_cert())
        h.refused_send(c.send, h.envelope([h.report()], request_id=1))
        self.assertIsNone(c.recv_ack(NO_ANSWER_S), "an uncertified key must not be served")
        self.assertEqual(self.reports_in_log(self.inst.read_log()), {})

    def test_raw_feed_client_gets_nothing(self):
        self.assertAccepted(self.raw().request([h.report()]), 1)
        f = self.raw_feed(cert=self.inst.uncertified_cert())
        h.refused_send(f.subscribe, ["*/*"], from_seq=1)
        self.assertIsNone(f.recv(NO_ANSWER_S), "an uncertified key must not read the feed")

    def test_hub_key_used_as_client_key_gets_no_answer(self):
        # The hub's own certificate is not a client certificate.
        c = self.raw(cert=self.inst.dir + "/keys/hub_secret")
        h.refused_send(c.send, h.envelope([h.report()], request_id=1))
        self.assertIsNone(c.recv_ack(NO_ANSWER_S))

    def test_adapter_with_uncertified_key_exits_2_saying_why(self):
        f = self.inst.write_jsonl([h.report()])
        t0 = time.monotonic()
        r = self.inst.run_adapter(None, [f], timeout_s=20, cert=self.inst.uncertified_cert())
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertRegex(r.stderr, re.compile(r"refus|certificate|denied|not accepted", re.I))
        self.assertLess(time.monotonic() - t0, 15 * h.SLOW, "a refused certificate is told apart from a slow hub")
        self.assertEqual(self.reports_in_log(self.inst.read_log()), {})

    def test_feed_with_uncertified_key_exits_2(self):
        r, entries = self.inst.run_feed(None, cert=self.inst.uncertified_cert(), from_seq=1, timeout_s=30,
                                        topics=("hageby/*",))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(entries, [])
        self.assertTrue(r.stderr.strip())


class Certified(h.HubTestCase):
    def test_partner_generated_key_certified_with_public_key(self):
        # The partner makes its own key pair; only the public half reaches the administrator.
        d = self.inst.tmp + "/partner"
        h.os.makedirs(d)
        pub, sec = h.zmq.auth.create_certificates(d, "egen")
        h.os.chmod(sec, 0o600)
        r = self.inst.estctl("client", "add", "vaktbolaget", "--role", "adapter", "--org", "securitas-nkpg",
                             "--public-key", pub)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(h.os.path.exists(self.inst.dir + "/clients/vaktbolaget_secret"),
                         "no secret is made for a partner's own key")
        # The hub picks up the new certificate without a restart, and never calls it revoked.
        deadline = time.monotonic() + 5 * h.SLOW
        c = self.raw(cert=sec)
        errors = []
        rid = 0
        while True:
            rid += 1
            c.send(h.envelope([h.report()], request_id=rid))
            ack = c.recv_ack(1)
            if ack is not None and ack.error:
                errors.append(ack.error)
            if (ack is not None and not ack.error) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertIsNotNone(ack, "a newly certified key is served within 5 s, without a restart")
        self.assertEqual(errors, [], "a newly certified key was refused before it was served")
        self.assertAccepted(ack, 1)
        log = {e.seq: e for e in self.inst.read_log()}
        self.assertEqual(log[ack.results[0].seq].org, "securitas-nkpg")


class Revoked(h.HubTestCase):
    def test_revoked_adapter_refused_on_open_connection_and_new_handshakes_fail(self):
        P = h.pb()
        c = self.raw()
        first = c.request([h.report()])
        self.assertAccepted(first, 1)
        t0 = time.monotonic()
        r = self.inst.estctl("client", "revoke", "kommunen")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        accepted = [first.results[0].seq]
        revoked_at = None
        rid = 100
        deadline = t0 + 5 * h.SLOW
        while time.monotonic() < deadline:
            rid += 1
            ack = c.request([h.report()], request_id=rid)
            if ack.error:
                self.assertIn("certificate revoked", ack.error)
                self.assertEqual(len(ack.results), 0)
                revoked_at = time.monotonic()
                break
            self.assertEqual(ack.results[0].status, P.STATUS_ACCEPTED)
            accepted.append(ack.results[0].seq)
            time.sleep(0.1)
        self.assertIsNotNone(revoked_at, "the open connection was never refused")
        self.assertLessEqual(revoked_at - t0, 2.0 * h.SLOW + 0.5, "refused within 2 s of estctl client revoke")
        # From then on every message is refused and nothing is stored.
        for i in range(3):
            ack = c.request([h.report()], request_id=500 + i)
            self.assertIn("certificate revoked", ack.error)
        # A new handshake with the revoked key fails.
        c2 = self.raw()
        c2.send(h.envelope([h.report()], request_id=1))
        self.assertIsNone(c2.recv_ack(NO_ANSWER_S), "a revoked key must not get a new connection")
        f = self.inst.write_jsonl([h.report()])
        a = self.inst.run_adapter(self.inst.muni, [f], timeout_s=10)
        self.assertEqual(a.returncode, 2, a.stdout + a.stderr)
        # Everyone else is still served.
        self.assertAccepted(self.raw(self.inst.police).request([h.report()]), 1)
        stored = self.reports_in_log(self.inst.read_log())
        self.assertEqual(sorted(e.seq for k, es in stored.items() if k[0] == "municipality" for e in es), accepted)
        # The revocation survives a restart.
        self.assertEqual(self.inst.stop(), 0)
        self.inst.start()
        c3 = self.raw()
        c3.send(h.envelope([h.report()], request_id=1))
        self.assertIsNone(c3.recv_ack(NO_ANSWER_S), "still refused after a restart")

    def test_revoked_subscriber_feed_ends(self):
        police = self.raw(self.inst.police)
        self.assertAccepted(police.request([h.report()]), 1)
        raw = self.raw_feed(self.inst.hageby)
        raw.subscribe(["hageby/*"], from_seq=1)
        st, _ = raw.status()
        self.assertTrue(st is not None and st.ok, st)
        self.assertEqual(len(raw.entries(1)), 1)
        raw.entries(100, timeout_s=0.5)  # drain what came before the revocation
        raw.statuses = []
        follower = self.inst.spawn(self.inst.feed_argv(self.inst.hageby, topics=("hageby/*",), from_seq=1,
                                                       until_head=False), "feed-follow")
        h.wait_until(lambda: len(follower.lines) >= 1, 10 * h.SLOW, what="est-feed to print the first entry")

        t0 = time.monotonic()
        r = self.inst.estctl("client", "revoke", "hageby-grupp")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        time.sleep(2.0 * h.SLOW + 0.5 - (time.monotonic() - t0))
        after = police.request([h.report(), h.report()])
        self.assertAccepted(after, 2)
        new_seqs = {x.seq for x in after.results}
        # Neither the raw subscriber nor est-feed gets anything appended after the revocation.
        got = raw.entries(2, timeout_s=2)
        self.assertEqual([e.seq for e in got if e.seq in new_seqs], [], "a revoked subscriber read new entries")
        for st in getattr(raw, "statuses", []):
            self.assertFalse(st.ok, "a status after revocation must not be ok: %s" % st)
        # Subscribing again on the open connection gets no entries either.
        raw.subscribe(["hageby/*"], from_seq=1)
        ev = raw.recv(NO_ANSWER_S)
        if ev is not None:
            self.assertEqual(ev.WhichOneof("body"), "status", "a revoked subscriber got an entry")
            self.assertFalse(ev.status.ok)
        time.sleep(0.5)
        printed = [l.split(" ", 1)[0] for l in follower.lines]
        self.assertEqual(len(printed), 1, "est-feed printed entries after revocation: %s" % follower.lines)
        # The feed ends: est-feed notices and stops.
        rc = follower.wait(10 * h.SLOW)
        self.assertIsNotNone(rc, "est-feed still running 10 s after its certificate was revoked")
        self.assertNotEqual(rc, 0)
        # New handshakes fail.
        f2 = self.raw_feed(self.inst.hageby)
        f2.subscribe(["hageby/*"], from_seq=1)
        self.assertIsNone(f2.recv(NO_ANSWER_S))

    def test_revoke_unknown_client_fails(self):
        r = self.inst.estctl("client", "revoke", "nosuchclient")
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip())


if __name__ == "__main__":
    unittest.main()
