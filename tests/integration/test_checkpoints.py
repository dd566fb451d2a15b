# SPDX-License-Identifier: Apache-2.0
"""Signed checkpoints and signed pictures through the real programs: a hub with a 1 s
checkpoint interval appends Checkpoint{size, head_hash, time, signature} entries on
all/checkpoints whenever the log grew, a plain working-group subscriber receives them, their
Ed25519 signatures verify with DIR/keys/sign.pem (checked here with python3-cryptography, not
with the hub's own code), head_hash is the chain hash at seq = size, `estctl verify` checks
them all, and a partner's saved copy passes `estctl verify --against`. Pictures carry the same
key's signature and `est-feed --sign-key` shows them. A restart appends one checkpoint when the
log grew and none when it did not; an instance from before signing gets its keys at start-up."""

import os
import re
import stat
import time
import unittest

from cryptography.hazmat.primitives.serialization import load_pem_public_key

import harness as h


def public_key(inst):
    with open(os.path.join(inst.dir, "keys", "sign.pem"), "rb") as f:
        return load_pem_public_key(f.read())


def signature_holds(key, msg):
    """Ed25519 over msg serialized with its signature field empty (the contract)."""
    unsigned = type(msg)()
    unsigned.CopyFrom(msg)
    unsigned.ClearField("signature")
    try:
        key.verify(msg.signature, unsigned.SerializeToString())
        return True
    except Exception:
        return False


def checkpoints(entries):
    return [e for e in entries if e.WhichOneof("body") == "checkpoint"]


class Checkpoints(h.HubTestCase):
    def configure(self, inst):
        inst.conf_set("checkpoints", "interval_seconds", "1")

    def push(self, n):
        acks = self.raw().request([h.report() for _ in range(n)])
        self.assertAccepted(acks, n)
        return [r.seq for r in acks.results]

    def wait_checkpoint_of(self, size, client=None):
        """The checkpoint entries read by client (default the Hageby group) once one covers size."""
        found = []

        def covered():
            r, entries = self.inst.run_feed(client or self.inst.hageby, topics=("all/checkpoints",),
                                            from_seq=1)
            self.assertEqual(r.returncode, 0, r.stderr)
            found[:] = checkpoints(entries)
            return any(c.checkpoint.size >= size for c in found)

        h.wait_until(covered, 10 * h.SLOW, interval_s=0.3, what="a checkpoint of seq %d" % size)
        return found

    def test_plain_subscriber_receives_checkpoints_that_verify(self):
        seqs = self.push(5)
        cps = self.wait_checkpoint_of(seqs[-1])
        key = public_key(self.inst)
        log = {e.seq: e for e in self.inst.read_log()}
        for e in cps:
            c = e.checkpoint
            self.assertEqual(e.topic, "all/checkpoints")
            self.assertEqual(e.org, "esthub")
            self.assertEqual(c.size, e.seq - 1, "size is the seq of the entry before the checkpoint")
            self.assertEqual(c.head_hash, log[c.size].hash, "head_hash is the chain hash at seq = size")
            self.assertEqual(len(c.signature), 64)
            self.assertTrue(signature_holds(key, c), "checkpoint at seq %d does not verify" % e.seq)
            self.assertLessEqual(abs(c.time - h.now()), 60)
        # One checkpoint per growth: never two in a row.
        seq_list = sorted(log)
        for a, b in zip(seq_list, seq_list[1:]):
            if log[a].WhichOneof("body") == "checkpoint":
                self.assertNotEqual(log[b].WhichOneof("body"), "checkpoint", "seq %d and %d" % (a, b))

        r = self.inst.estctl("verify", timeout_s=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("log OK", r.stdout)
        m = re.search(r"checkpoints OK: (\d+) signed", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertGreaterEqual(int(m.group(1)), len(cps))

    def test_no_checkpoint_while_nothing_changes(self):
        seqs = self.push(2)
        self.wait_checkpoint_of(seqs[-1])
        # Reading through the feed is itself audited (all/audit), and that growth gets its
        # checkpoint too; from here on the store is read directly, which leaves no trace.
        last = [None, time.monotonic()]

        def settled():
            rows = self.inst.store_rows()
            if rows != last[0]:
                last[:] = [rows, time.monotonic()]
            return time.monotonic() - last[1] >= 2.5 * h.SLOW

        h.wait_until(settled, 20 * h.SLOW, interval_s=0.2, what="the log to settle")
        rows = last[0]
        self.assertEqual(rows[-1][1], "all/checkpoints", "the last growth has its checkpoint")
        time.sleep(2.5 * h.SLOW)
        self.assertEqual(self.inst.store_rows(), rows, "a quiet log got another checkpoint")

    def test_saved_checkpoints_pass_verify_against(self):
        seqs = self.push(3)
        self.wait_checkpoint_of(seqs[-1])
        self.push(2)
        r, _ = self.inst.run_feed(self.inst.hageby, topics=("all/checkpoints",), from_seq=1,
                                  json_out=True)
        saved = os.path.join(self.inst.tmp, "checkpoints.jsonl")
        with open(saved, "w", encoding="utf-8") as f:
            f.write(r.stdout)
        self.assertGreater(len(r.stdout.splitlines()), 0)
        r = self.inst.estctl("verify", "--against", saved, timeout_s=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"against .*checkpoints\.jsonl: the log extends")
        # The simple form: one Checkpoint in the JSON mapping, without the LogEntry around it.
        P = h.pb()
        jf = h.json_format()
        last = P.LogEntry()
        with open(saved, encoding="utf-8") as f:
            jf.Parse(f.read().splitlines()[-1], last)
        bare = os.path.join(self.inst.tmp, "bare.json")
        with open(bare, "w", encoding="utf-8") as f:
            f.write("# saved by hand\n" + jf.MessageToJson(last.checkpoint, indent=None) + "\n")
        r = self.inst.estctl("verify", "--against", bare, timeout_s=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Not a checkpoint: an input error naming the line.
        junk = os.path.join(self.inst.tmp, "junk.json")
        with open(junk, "w", encoding="utf-8") as f:
            f.write('{"size": "x"}\n')
        r = self.inst.estctl("verify", "--against", junk, timeout_s=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("junk.json:1:", r.stdout)
        r = self.inst.estctl("verify", "--against", os.path.join(self.inst.tmp, "absent"), timeout_s=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

    def test_pictures_are_signed_and_est_feed_checks_them(self):
        self.push(4)
        r = self.inst.estctl("picture", "compile", "--area", "hageby")
        self.assertEqual(r.returncode, 0, r.stderr)
        key = public_key(self.inst)
        pics = [e for e in self.inst.read_log() if e.WhichOneof("body") == "picture"]
        self.assertEqual(len(pics), 1)
        self.assertTrue(signature_holds(key, pics[0].picture), "the picture's signature does not verify")
        sign_pem = os.path.join(self.inst.dir, "keys", "sign.pem")
        argv = self.inst.feed_argv(self.inst.hageby, topics=("*/pictures", "all/checkpoints"), from_seq=1,
                                   until_head=True) + ["--sign-key", sign_pem]
        r = h.subprocess.run(argv, capture_output=True, text=True, timeout=60 * h.SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = h.parse_log_entries(r.stdout)
        self.assertIn("hageby/pictures", [e.topic for e in got])
        self.assertNotIn("not checked", r.stderr)
        # Without --sign-key est-feed says once that it does not check.
        r = h.subprocess.run(argv[:-2], capture_output=True, text=True, timeout=60 * h.SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.count("are not checked"), 1, r.stderr)


class StartupCheckpoints(h.HubTestCase):
    """The default interval (an hour): checkpoints come at start-up, when the log grew."""

    def test_restart_checkpoints_growth_only(self):
        acks = self.raw().request([h.report() for _ in range(3)])
        self.assertAccepted(acks, 3)
        self.assertEqual(self.inst.stop(), 0)
        hub = self.inst.start()
        log = self.inst.read_log()
        self.assertEqual(log[-1].WhichOneof("body"), "checkpoint", "no checkpoint at start-up")
        self.assertEqual(log[-1].checkpoint.size, acks.results[-1].seq)
        self.assertEqual(hub.head_seq, log[-1].seq, "the start-up checkpoint comes before ready")
        # Reading through the feed was audited: that growth gets its checkpoint at the next
        # start; the one after that finds nothing new.
        self.assertEqual(self.inst.stop(), 0)
        hub = self.inst.start()
        rows = self.inst.store_rows()
        self.assertEqual(rows[-1][1], "all/checkpoints")
        self.assertEqual(hub.head_seq, rows[-1][0])
        self.assertEqual(self.inst.stop(), 0)
        hub = self.inst.start()
        self.assertEqual(hub.head_seq, rows[-1][0], "a restart without growth made a checkpoint")
        self.assertEqual(self.inst.store_rows(), rows)

    def test_instance_from_before_signing_gets_its_keys(self):
        self.assertEqual(self.inst.stop(), 0)
        keys = os.path.join(self.inst.dir, "keys")
        for name in ("sign_secret.pem", "sign.pem"):
            os.unlink(os.path.join(keys, name))
        self.inst.start()
        err = self.inst.hub_stderr()
        self.assertEqual(len(re.findall(r"created the signing key", err)), 1, err)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(keys, "sign_secret.pem")).st_mode), 0o600)
        self.assertTrue(os.path.exists(os.path.join(keys, "sign.pem")))
        r = h.subprocess.run([h.ESTHUB, "check", self.inst.dir], capture_output=True, text=True,
                             timeout=30 * h.SLOW)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
