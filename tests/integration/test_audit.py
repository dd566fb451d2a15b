# SPDX-License-Identifier: Apache-2.0
"""The audit topic all/audit through the real programs: subscriptions, refusals and administrative
changes become log entries (AuditEvent, org esthub) that an admin reads with est-feed --topic
all/audit; a subscriber can neither name the topic nor get it through */*; a revoked key that keeps
sending costs one coalesced entry; nothing refused (a personal identity number) and no key is ever
in an entry. See docs/audit.md."""

import os
import re
import time
import unittest

import harness as h

PNR = "19811218-9876"  # Skatteverket's example, valid Luhn


class AuditTest(h.HubTestCase):

    def audit(self, client=None):
        """Every all/audit entry so far, read as the admin (AuditEvent bodies)."""
        r, entries = self.inst.run_feed(client or self.inst.admin, topics=("all/audit",), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        for e in entries:
            self.assertEqual(e.topic, "all/audit")
            self.assertEqual(e.org, "esthub")
            self.assertEqual(e.WhichOneof("body"), "audit")
        return [e.audit for e in entries]

    def wait_audit(self, action, client, timeout_s=5, n=1):
        """Waits until at least n entries of (action, client) are on all/audit; returns them."""
        def found():
            got = [a for a in self.audit() if a.action == action and a.client == client]
            return got if len(got) >= n else None
        return h.wait_until(found, timeout_s * h.SLOW, interval_s=0.3,
                            what=lambda: "audit %s of %s; have %s" % (
                                action, client, [(a.action, a.client, a.detail) for a in self.audit()]))

    def restart(self):
        """Stops the hub (which logs what is still queued, open windows too) and starts it again."""
        self.assertEqual(self.inst.stop(), 0)
        self.inst.start()

    def public_key(self, path):
        with open(path, encoding="utf-8") as f:
            m = re.search(r'public-key\s*=\s*"?([^"\s]+)', f.read())
        self.assertIsNotNone(m, path)
        return m.group(1)

    # -- subscriptions --------------------------------------------------------

    def test_subscription_audited_and_audit_topic_admins_only(self):
        hageby = self.inst.hageby
        r, _ = self.inst.run_feed(hageby, topics=("hageby/reports", "hageby/pictures"), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        sub = self.wait_audit("subscribed", "hageby-grupp")[0]
        self.assertEqual(list(sub.topics), ["hageby/reports", "hageby/pictures"])
        self.assertEqual(sub.from_seq, 1)
        self.assertEqual(sub.detail, "hageby/reports,hageby/pictures from seq 1")

        # Naming all/audit beside an allowed topic: served the rest, refused by name.
        feed = self.raw_feed(hageby)
        feed.subscribe(["hageby/reports", "all/audit"], from_seq=1)
        st, _ = feed.status()
        self.assertIsNotNone(st)
        self.assertFalse(st.ok)
        self.assertIn("all/audit: not allowed for this certificate", st.message)
        got = self.wait_audit("subscribed", "hageby-grupp", n=2)[1]
        self.assertEqual(list(got.topics), ["hageby/reports"])
        self.assertIn("hageby/reports from seq 1; refused: all/audit: not allowed", got.detail)

        # Naming it alone: no subscription at all.
        feed2 = self.raw_feed(hageby)
        feed2.subscribe(["all/audit"], from_seq=1)
        st, entries = feed2.status()
        self.assertFalse(st.ok)
        self.assertIn("no topic to serve: all/audit: not allowed for this certificate", st.message)
        self.assertEqual(entries, [])

        # */* of a subscriber never yields an audit entry, though an admin's */* does.
        self.assertTrue(any(e.topic == "all/audit" for e in self.inst.read_log()))
        r, entries = self.inst.run_feed(hageby, topics=("*/*",), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse([e for e in entries if e.topic == "all/audit" or e.WhichOneof("body") == "audit"])
        r, entries = self.inst.run_feed(hageby, topics=("all/*",), from_seq=1)
        self.assertFalse([e for e in entries if e.topic == "all/audit"])

        # The refused subscription is one entry once its window closes (or at stop).
        self.restart()
        refused = self.wait_audit("subscription_refused", "hageby-grupp")
        self.assertEqual(len(refused), 1)
        self.assertIn("all/audit: not allowed", refused[0].detail)

    # -- refusals -----------------------------------------------------------------

    def test_unauthenticated_handshakes_are_one_coalesced_entry(self):
        """A key with no certificate gets nothing at all (zauth refuses the handshake), but the
        administrators see that it happened, without the key."""
        sec = self.inst.uncertified_cert()
        key = self.public_key(sec)
        c = self.raw(cert=sec)
        h.refused_send(c.send, h.envelope([h.report()], request_id=1))
        self.assertIsNone(c.recv_ack(2), "an uncertified key got an answer")
        f = self.raw_feed(cert=sec)
        h.refused_send(f.subscribe, ["*/*"])
        self.assertIsNone(f.recv(1), "an uncertified key got a feed event")
        c.close()
        f.close()
        self.restart()  # logs the open coalescing windows at once
        got = [a for a in self.audit() if a.action == "handshake_refused"]
        self.assertEqual(len(got), 1, [(a.action, a.detail) for a in got])
        self.assertGreaterEqual(got[0].count, 2, "the ingest and the feed attempts, and retries")
        self.assertEqual(got[0].client, "")
        self.assertIn("refused in the CURVE handshake", got[0].detail)
        for x in self.audit():
            self.assertNotIn(key, x.detail)
            self.assertNotIn(key[:8], x.detail)

    def test_revoked_key_hammering_is_one_coalesced_entry(self):
        police = self.inst.police
        key = self.public_key(police.public)
        c = self.raw(police)
        a = c.request([h.report()])
        self.assertEqual(a.results[0].status, h.pb().STATUS_ACCEPTED, a)
        r = self.inst.estctl("client", "revoke", "polisen")
        self.assertEqual(r.returncode, 0, r.stderr)
        n = 30
        for i in range(n):
            a = c.request([h.report()])
            self.assertEqual(a.error, "certificate revoked")
        revoked = self.wait_audit("client_revoked", "polisen")
        self.assertEqual(len(revoked), 1)
        # The window is 10 s: one entry standing for all 30, logged when it closes.
        got = self.wait_audit("revoked_key_refused", "polisen", timeout_s=20)
        time.sleep(1)
        got = [x for x in self.audit() if x.action == "revoked_key_refused"]
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0].count, n)
        self.assertIn("certificate revoked", got[0].detail)
        self.assertIn("%d times" % n, got[0].detail)
        for x in self.audit():
            self.assertNotIn(key, x.detail)
            self.assertNotIn(key[:8], x.detail)
            self.assertNotIn(key, x.client)

    def test_role_may_not_send_and_personal_data_refused_without_the_text(self):
        muni = self.inst.muni
        c = self.raw(muni)
        bad = [h.report(description="Vittne %s såg gruppen" % PNR) for _ in range(3)]
        a = c.request(bad + [h.report()])
        statuses = [x.status for x in a.results]
        self.assertEqual(statuses, [h.pb().STATUS_REJECTED] * 3 + [h.pb().STATUS_ACCEPTED], a)
        sub = self.raw(self.inst.hageby)
        a = sub.request([h.report()])
        self.assertIn("may not send", a.error)
        self.restart()  # logs the open windows at once
        got = self.wait_audit("report_refused_personal_data", "kommunen")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].count, 3)
        self.assertIn("description", got[0].detail)
        self.assertIn("personal identity number", got[0].detail)
        sent = self.wait_audit("send_refused", "hageby-grupp")
        self.assertIn("role subscriber may not send", sent[0].detail)
        # Nothing of the number anywhere in the log, audit entries included.
        r, entries = self.inst.run_feed(self.inst.admin, topics=("*/*", "all/audit"), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(any(e.topic == "all/audit" for e in entries))
        for e in entries:
            blob = e.SerializeToString()
            for spelling in (PNR, "811218-9876", "8112189876"):
                self.assertNotIn(spelling.encode(), blob)

    # -- administrative changes -------------------------------------------------------

    def test_client_and_measure_changes_are_audited(self):
        inst = self.inst
        inst.add_client("nybyggd", "subscriber", groups=["navestad/social"])
        added = self.wait_audit("client_added", "nybyggd")
        self.assertIn("role subscriber", added[0].detail)
        self.assertIn("navestad/social", added[0].detail)
        old_key = self.public_key(inst.muni.public)
        old_secret = os.path.join(inst.tmp, "kommunen_old_secret")
        with open(inst.muni.secret, "rb") as f, open(old_secret, "wb") as g:
            g.write(f.read())
        old = self.raw(cert=old_secret)  # connected with the old key before the rotation
        self.assertEqual(old.request([h.report()]).results[0].status, h.pb().STATUS_ACCEPTED)
        r = inst.estctl("client", "rotate", "kommunen")
        self.assertEqual(r.returncode, 0, r.stderr)
        rotated = self.wait_audit("client_rotated", "kommunen")
        self.assertEqual(len(rotated), 1)
        r = inst.estctl("client", "revoke", "hyresbostader")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_audit("client_revoked", "hyresbostader")

        r = inst.estctl("measure", "add", "--area", "hageby", "--kind", "lighting", "--org", "housing")
        self.assertEqual(r.returncode, 0, r.stderr)
        mid = r.stdout.strip().splitlines()[0]
        added = self.wait_audit("measure_added", "estctl")
        self.assertIn("measure %s added" % mid, added[0].detail)
        r = inst.estctl("measure", "set", mid, "--status", "decided")
        self.assertEqual(r.returncode, 0, r.stderr)
        changed = self.wait_audit("measure_changed", "estctl")
        self.assertIn("proposed -> decided", changed[0].detail)

        r = inst.estctl("picture", "compile", "--area", "hageby")
        self.assertEqual(r.returncode, 0, r.stderr)
        pics = self.wait_audit("pictures_compiled", "estctl")
        self.assertIn("compiled 1 picture", pics[0].detail)

        # The old key of the rotated client: refused, and audited under the client's name.
        self.assertEqual(old.request([h.report()]).error, "certificate revoked")
        self.restart()
        refused = self.wait_audit("revoked_key_refused", "kommunen")
        self.assertEqual(refused[0].count, 1)
        new_key = self.public_key(inst.muni.public)
        for x in self.audit():
            for k in (old_key, new_key):
                self.assertNotIn(k, x.detail)
                self.assertNotIn(k[:8], x.detail)


if __name__ == "__main__":
    unittest.main()
