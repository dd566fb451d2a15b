# SPDX-License-Identifier: Apache-2.0
"""esthub init / check, and every program's --help and usage errors."""

import os
import re
import shutil
import stat
import subprocess
import unittest

import harness as h


def run(argv, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=h.RUN_TIMEOUT_S, **kw)


class InitAndCheck(unittest.TestCase):
    def setUp(self):
        h.require_programs()
        self.inst = h.Instance()
        self.addCleanup(self.inst.cleanup)

    def test_init_makes_the_instance_of_the_contract(self):
        d = self.inst.dir
        for rel in ("hub.conf", "areas.geojson", "keys/hub", "keys/hub_secret", "certs", "clients", "data"):
            self.assertTrue(os.path.exists(os.path.join(d, rel)), rel + " missing after esthub init")
        mode = stat.S_IMODE(os.stat(os.path.join(d, "keys", "hub_secret")).st_mode)
        self.assertEqual(mode & 0o077, 0, "keys/hub_secret must not be readable by others (mode %o)" % mode)
        # The hub's public certificate is a zcert file pyzmq can read, without a secret key.
        pub, sec = h.zmq.auth.load_certificate(os.path.join(d, "keys", "hub"))
        self.assertEqual(len(pub), 40)
        self.assertIsNone(sec)
        # The default areas are the five EST areas.
        self.assertEqual(set(h.load_areas(os.path.join(d, "areas.geojson"))), set(h.AREAS))

    def test_init_refuses_a_non_empty_directory(self):
        r = run([h.ESTHUB, "init", self.inst.dir])
        self.assertNotEqual(r.returncode, 0, "esthub init over an existing instance must fail")
        self.assertTrue(r.stderr.strip(), "a refusal says why on stderr")

    def test_client_secret_is_private_and_public_cert_has_metadata(self):
        self.inst.add_client("kommunen", "adapter", org="municipality")
        c = h.Client(self.inst, "kommunen", "adapter")
        mode = stat.S_IMODE(os.stat(c.secret).st_mode)
        self.assertEqual(mode & 0o077, 0, "clients/NAME_secret must be 0600 (mode %o)" % mode)
        with open(c.public, encoding="utf-8") as f:
            text = f.read()
        self.assertRegex(text, r'role\s*=\s*"adapter"')
        self.assertRegex(text, r'org\s*=\s*"municipality"')
        self.assertNotIn("secret-key", text, "the public certificate must not hold the secret key")
        r = self.inst.estctl("client", "list", check=True)
        self.assertIn("kommunen", r.stdout)

    def test_client_add_refuses_bad_names_and_roles(self):
        for args in (["client", "add", "Bad Name", "--role", "adapter", "--org", "police"],
                     ["client", "add", "x", "--role", "emperor", "--org", "police"],
                     ["client", "add", "x", "--role", "adapter", "--org", "Not An Org!"]):
            r = self.inst.estctl(*args)
            self.assertEqual(r.returncode, 1, "estctl %s must be a usage error (exit 1): %s" % (args, r.stderr))
            self.assertTrue(r.stderr.strip())

    def test_check_fresh_instance_ok(self):
        r = run([h.ESTHUB, "check", self.inst.dir])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("configuration OK", r.stdout)

    def _break(self, key, value, section="limits"):
        self.inst.conf_set(section, key, value)
        with open(self.inst.conf, encoding="utf-8") as f:
            for n, line in enumerate(f.read().split("\n"), 1):
                if re.match(r"^\s*%s\s*=" % key, line):
                    return n
        raise AssertionError("key not written")

    def _assert_points_at(self, r, line, key):
        self.assertEqual(r.returncode, 1, "esthub check on a broken hub.conf must exit 1: " + r.stdout + r.stderr)
        out = r.stdout + r.stderr
        self.assertNotIn("configuration OK", out)
        pat = re.compile(r"hub\.conf:%d: \S*%s\S*: \S" % (line, re.escape(key)))
        self.assertTrue(any(pat.search(l) for l in out.splitlines()),
                        "expected a 'hub.conf:%d: %s: reason' line, got:\n%s" % (line, key, out))

    def test_check_names_file_line_and_key_of_a_bad_value(self):
        line = self._break("max_frame_bytes", "lots")
        self._assert_points_at(run([h.ESTHUB, "check", self.inst.dir]), line, "max_frame_bytes")

    def test_check_names_an_out_of_range_value(self):
        line = self._break("max_reports_per_envelope", "0")
        self._assert_points_at(run([h.ESTHUB, "check", self.inst.dir]), line, "max_reports_per_envelope")

    def test_check_names_an_unknown_key(self):
        line = self._break("max_frames_bytes", "1000")
        self._assert_points_at(run([h.ESTHUB, "check", self.inst.dir]), line, "max_frames_bytes")

    def test_check_names_an_endpoint_the_hub_cannot_bind(self):
        line = self._break("ingest", "tcp://127.0.0.1", section="hub")
        r = run([h.ESTHUB, "check", self.inst.dir])
        self._assert_points_at(r, line, "ingest")
        self.assertIn('"tcp://127.0.0.1": no port: expected tcp://HOST:PORT', r.stdout + r.stderr)

    def test_check_names_a_feed_on_the_ingest_endpoint(self):
        self._break("ingest", "tcp://127.0.0.1:7000", section="hub")
        line = self._break("feed", "tcp://127.0.0.1:7000", section="hub")
        r = run([h.ESTHUB, "check", self.inst.dir])
        self._assert_points_at(r, line, "feed")
        self.assertIn("the same endpoint as [hub] ingest", r.stdout + r.stderr)
        self._break("feed", "tcp://127.0.0.1:7001", section="hub")
        self.assertEqual(run([h.ESTHUB, "check", self.inst.dir]).returncode, 0)
        # No feed line: ingest on the default feed endpoint is named at ingest's line.
        with open(self.inst.conf, encoding="utf-8") as f:
            text = re.sub(r"(?m)^feed = .*\n", "", f.read())
        with open(self.inst.conf, "w", encoding="utf-8") as f:
            f.write(text)
        line = self._break("ingest", "tcp://127.0.0.1:7602", section="hub")
        r = run([h.ESTHUB, "check", self.inst.dir])
        self._assert_points_at(r, line, "ingest")
        self.assertIn("the same endpoint as [hub] feed (its default)", r.stdout + r.stderr)

    def test_check_reads_the_hubs_keys_as_run_does(self):
        keys = os.path.join(self.inst.dir, "keys")
        other = os.path.join(self.inst.tmp, "other")
        self.assertEqual(run([h.ESTHUB, "init", other]).returncode, 0)
        shutil.copy(os.path.join(other, "keys", "hub"), os.path.join(keys, "hub"))
        r = run([h.ESTHUB, "check", self.inst.dir])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("keys/hub:0: public-key: not the public half of %s/hub_secret; partners given this "
                      "file cannot connect" % keys, r.stdout)
        with open(os.path.join(keys, "hub_secret"), "w") as f:  # esthub run refuses it
            f.write("garbage\n")
        r = run([h.ESTHUB, "check", self.inst.dir])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("keys/hub_secret:0: public-key: missing", r.stdout)

    def test_init_refuses_an_endpoint_it_cannot_bind_and_makes_nothing(self):
        d = os.path.join(self.inst.tmp, "new-instance")
        for args, said in ((["--ingest", "nonsense"], 'init: --ingest "nonsense": expected tcp://HOST:PORT or ipc://PATH'),
                           (["--feed", "tcp://127.0.0.1:99999"], "port 99999 is not 1..65535"),
                           (["--ingest", "tcp://[::1]:7601"], "an IPv6 address; esthub serves IPv4"),
                           (["--ingest", "tcp://127.0.0.1:7602"],  # the default feed
                            "ingest and feed would both be tcp://127.0.0.1:7602")):
            r = run([h.ESTHUB, "init", d] + args)
            self.assertEqual(r.returncode, 1, "a bad endpoint is a usage error: %s" % r.stderr)
            self.assertIn(said, r.stderr)
            self.assertFalse(os.path.exists(d), "esthub init %s made %s" % (args, d))
        r = run([h.ESTHUB, "init", d, "--ingest", "tcp://*:*", "--feed", "tcp://*:*"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(run([h.ESTHUB, "check", d]).returncode, 0)

    def test_init_that_fails_midway_leaves_nothing(self):
        small = os.path.join(self.inst.tmp, "small")
        os.mkdir(small)
        h.mount_tmpfs(self, self.inst, small, "32k")  # room for some of an instance, not all
        for d in (os.path.join(small, "new"), small):  # a directory init makes, one given empty
            r = run([h.ESTHUB, "init", d])
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertRegex(r.stderr, r"init: .*(No space left on device|disk is full)")
            self.assertEqual(os.listdir(small), [], "esthub init left part of an instance behind")

    def test_run_and_check_name_a_directory_without_an_instance(self):
        d = os.path.join(self.inst.tmp, "no-such-instance")
        for cmd in ("run", "check"):
            r = run([h.ESTHUB, cmd, d])
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertEqual(r.stderr, "esthub: %s: no esthub instance here (no %s/hub.conf); esthub init %s "
                             "makes one\n" % (d, d, d))

    def test_run_refuses_a_broken_configuration(self):
        self._break("max_frame_bytes", "lots")
        try:
            r = subprocess.run([h.ESTHUB, "run", self.inst.dir], stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=15 * h.SLOW)
        except subprocess.TimeoutExpired:
            self.fail("esthub run started with a broken hub.conf")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("max_frame_bytes", r.stderr)


class Programs(unittest.TestCase):
    def setUp(self):
        h.require_programs()

    def test_help_exits_0_and_usage_errors_exit_1(self):
        for prog in (h.ESTHUB, h.ESTCTL, h.EST_ADAPTER, h.EST_FEED):
            r = run([prog, "--help"])
            self.assertEqual(r.returncode, 0, "%s --help: %s" % (prog, r.stderr))
            self.assertTrue(r.stdout.strip(), "%s --help prints its usage" % prog)
            r = run([prog, "--no-such-option"])
            self.assertEqual(r.returncode, 1, "%s with an unknown option exits 1" % prog)
            self.assertTrue(r.stderr.strip(), "%s says why on stderr" % prog)

    def test_estctl_revoke_without_hub_says_hub_not_running(self):
        inst = h.Instance()
        self.addCleanup(inst.cleanup)
        inst.add_client("kommunen", "adapter", org="municipality")
        r = inst.estctl("client", "revoke", "kommunen", timeout_s=30)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("hub not running", r.stderr)

    def test_clients_refuse_an_endpoint_before_connecting(self):
        for prog, ep, said in ((h.EST_ADAPTER, "tcp://hub.example", "no port: expected tcp://HOST:PORT"),
                               (h.EST_ADAPTER, "tcp://*:7601", "host * is for the hub's own endpoints"),
                               (h.EST_FEED, "tcp://127.0.0.1:*", "port * is for the hub's own endpoints"),
                               (h.EST_FEED, "http://127.0.0.1:7602", "expected tcp://HOST:PORT or ipc://PATH")):
            r = run([prog, "--hub", ep, "--hub-cert", "hub", "--cert", "secret", "--format", "json"]
                    if prog == h.EST_ADAPTER else [prog, "--hub", ep, "--hub-cert", "hub", "--cert", "secret"])
            self.assertEqual(r.returncode, 1, "%s --hub %s: %s" % (prog, ep, r.stderr))
            self.assertIn('--hub "%s": %s' % (ep, said), r.stderr)

    def test_feed_refuses_a_state_it_cannot_save_before_following(self):
        inst = h.Instance()
        self.addCleanup(inst.cleanup)
        c = inst.add_client("grupp", "subscriber", groups=["hageby/social"])
        state = os.path.join(inst.tmp, "no-such-dir", "hageby.state")
        # No hub answers there and no --timeout: only the check ends it.
        r = run([h.EST_FEED, "--hub", "tcp://127.0.0.1:1", "--hub-cert", inst.hub_cert, "--cert", c.secret,
                 "--state", state])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr, "est-feed: --state %s: cannot write in %s: No such file or directory\n"
                         % (state, os.path.dirname(state)))

    def test_adapter_missing_input_file_is_environment_error(self):
        inst = h.Instance()
        self.addCleanup(inst.cleanup)
        c = inst.add_client("kommunen", "adapter", org="municipality")
        inst.hub = None
        argv = [h.EST_ADAPTER, "--hub", "tcp://127.0.0.1:1", "--hub-cert", inst.hub_cert, "--cert", c.secret,
                "--format", "json", "--timeout", "2", os.path.join(inst.tmp, "nope.jsonl")]
        r = run(argv, cwd=inst.tmp)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("nope.jsonl", r.stderr)


if __name__ == "__main__":
    unittest.main()
