# SPDX-License-Identifier: Apache-2.0
"""Key rotation without a restart: `estctl client rotate NAME` gives a client a new key
(same role, org and groups); the running hub admits the new key at once and refuses the old
one on its open connection within 2 s and at new handshakes. The old public certificate is
kept in revoked/, so the old key can never be added again."""

import os
import shutil
import time
import unittest

import harness as h

NO_ANSWER_S = 2.0


class Rotation(h.HubTestCase):
    def test_generated_key_replaces_old_without_restart(self):
        P = h.pb()
        old_secret = os.path.join(self.inst.tmp, "kommunen_secret.old")
        shutil.copy(self.inst.muni.secret, old_secret)
        old = self.raw(cert=old_secret)
        self.assertAccepted(old.request([h.report()]), 1)
        pid = self.inst.hub.proc.p.pid

        t0 = time.monotonic()
        r = self.inst.estctl("client", "rotate", "kommunen")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("rotated", r.stdout)
        self.assertEqual(os.stat(self.inst.muni.secret).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(self.inst.muni.secret + ".new"))

        # The new key: admitted by the running hub, as the same organisation.
        new = self.raw()
        ack = new.request([h.report()], timeout_s=10)
        self.assertAccepted(ack, 1)
        seq = ack.results[0].seq

        # The old key: refused on its open connection within 2 s, nothing stored.
        refused_at = None
        rid = 100
        while time.monotonic() < t0 + 5 * h.SLOW:
            rid += 1
            a = old.request([h.report()], request_id=rid)
            if a.error:
                self.assertIn("certificate revoked", a.error)
                self.assertEqual(len(a.results), 0)
                refused_at = time.monotonic()
                break
            time.sleep(0.1)
        self.assertIsNotNone(refused_at, "the old key was never refused")
        self.assertLessEqual(refused_at - t0, 2.0 * h.SLOW + 0.5)
        # ... and a new handshake with it fails.
        again = self.raw(cert=old_secret)
        again.send(h.envelope([h.report()], request_id=1))
        self.assertIsNone(again.recv_ack(NO_ANSWER_S), "the replaced key got a new connection")

        self.assertEqual(self.inst.hub.proc.p.pid, pid, "no restart")
        entry = {e.seq: e for e in self.inst.read_log()}[seq]
        self.assertEqual(entry.org, "municipality")

        # The old public certificate is kept as revoked; the old key cannot be added back.
        lst = self.inst.estctl("client", "list", check=True).stdout
        self.assertRegex(lst, r"kommunen-old1\s+adapter\s+municipality.*revoked")
        pub_old = os.path.join(self.inst.tmp, "old-public")
        shutil.copy(os.path.join(self.inst.dir, "revoked", "kommunen-old1"), pub_old)
        r = self.inst.estctl("client", "add", "kommunen2", "--role", "adapter", "--org",
                             "municipality", "--public-key", pub_old)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("revoked", r.stderr)

    def test_partner_key_and_twice_in_one_second(self):
        """A partner's own new key; and two rotations within a second (zauth's store reloads
        by itself only on a change of whole seconds, count or size: the hub reloads it)."""
        d = os.path.join(self.inst.tmp, "partner")
        os.mkdir(d)
        import zmq.auth
        pub1, sec1 = zmq.auth.create_certificates(d, "k1")
        pub2, sec2 = zmq.auth.create_certificates(d, "k2")
        for pub in (pub1, pub2):
            r = self.inst.estctl("client", "rotate", "polisen", "--public-key", pub)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertAccepted(self.raw(cert=sec2).request([h.report()], timeout_s=10), 1)
        c1 = self.raw(cert=sec1)
        c1.send(h.envelope([h.report()], request_id=1))
        self.assertIsNone(c1.recv_ack(NO_ANSWER_S), "the key rotated out a moment ago still connects")
        lst = self.inst.estctl("client", "list", check=True).stdout
        self.assertIn("polisen-old1", lst)
        self.assertIn("polisen-old2", lst)

    def test_unknown_and_revoked_clients_cannot_rotate(self):
        r = self.inst.estctl("client", "rotate", "nosuchclient")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no client named nosuchclient", r.stderr)
        self.inst.estctl("client", "revoke", "hyresbostader", check=True)
        r = self.inst.estctl("client", "rotate", "hyresbostader")
        self.assertEqual(r.returncode, 1, "a revoked client stays revoked")


if __name__ == "__main__":
    unittest.main()
