# SPDX-License-Identifier: Apache-2.0
"""The systemd units of config/systemd/, as the build configured them, run the programs as they
are meant to. Each unit's ExecStartPre and ExecStart are taken from the file and run for real,
with the installed paths (the programs, /var/lib/esthub, /etc/esthub, ...) mapped onto this build
and this test's directories: the hub starts from its instance directory, the municipality's
adapter from the shipped configuration reads its drop directory, the Hageby feed from the shipped
example of its options writes its pages. The unit's KillSignal stops each with exit 0, as
systemd expects of a clean stop, and an error that does not heal by itself (a broken
configuration) exits with a status the unit does not restart on. No systemd is needed: this
checks what the units say, not systemd. The backup unit, run night after night, keeps the newest
seven verified copies."""

import os
import re
import shutil
import signal
import subprocess
import unittest

import harness as h

UNIT_DIR = os.path.join(h.BUILD_DIR, "config", "systemd")
SOURCE_UNITS = os.path.join(h.SOURCE_DIR, "config", "systemd")
PROGRAMS = {"esthub": h.ESTHUB, "est-adapter": h.EST_ADAPTER, "est-feed": h.EST_FEED, "estctl": h.ESTCTL}


def read_unit(name):
    """{section: {key: [values]}} of a unit file (systemd's syntax: keys may repeat)."""
    unit, section = {}, None
    with open(os.path.join(UNIT_DIR, name), encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            if s.startswith("[") and s.endswith("]"):
                section = unit.setdefault(s[1:-1], {})
                continue
            key, value = s.split("=", 1)
            section.setdefault(key.strip(), []).append(value.strip())
    return unit


class Units(h.HubTestCase):
    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.inst.tmp, "root")  # stands for / in the units' paths

    def one(self, unit, key):
        values = unit["Service"].get(key, [])
        self.assertEqual(len(values), 1, "%s once in [Service]" % key)
        return values[0]

    def command(self, unit, key, name, env=None):
        """The unit's command line for instance NAME, on this machine: %i filled in, $VARS from env
        split into words as systemd does for an unquoted $VAR, the program this build's, paths
        under the test's root."""
        words = []
        for w in self.one(unit, key).replace("%i", name).split():
            if w.startswith("$"):
                words += env[w[1:]].split()
            else:
                words.append(w)
        prog = words[0]
        self.assertTrue(os.path.isabs(prog), "systemd wants an absolute path: %s" % prog)
        self.assertIn(os.path.basename(prog), PROGRAMS)
        return [PROGRAMS[os.path.basename(prog)]] + [self.here(w) for w in words[1:]]

    def here(self, text):
        for prefix in ("/var/lib/", "/etc/esthub/", "/var/spool/", "/var/backups/"):
            text = text.replace(prefix, os.path.join(self.root, prefix.strip("/")) + "/")
        return text

    def stop_as_systemd(self, unit, proc):
        """The unit's KillSignal, then at most TimeoutStopSec for the exit status."""
        proc.signal(signal.Signals[self.one(unit, "KillSignal")])
        rc = proc.wait(float(self.one(unit, "TimeoutStopSec")) * h.SLOW)
        self.assertIsNotNone(rc, "stopped within TimeoutStopSec")
        return rc

    def no_restart(self, unit):
        return {int(v) for v in self.one(unit, "RestartPreventExitStatus").split()}

    def test_the_hub_unit_starts_checks_and_stops_the_instance(self):
        unit = read_unit("esthub@.service")
        self.assertEqual(self.one(unit, "Restart"), "on-failure")
        self.assertEqual(self.inst.stop(), 0)
        inst_dir = self.here("/var/lib/esthub/norrkoping")
        os.makedirs(os.path.dirname(inst_dir))
        os.rename(self.inst.dir, inst_dir)
        self.assertEqual(self.here(self.one(unit, "ReadWritePaths").replace("%i", "norrkoping")), inst_dir,
                         "the instance may be written")

        r = subprocess.run(self.command(unit, "ExecStartPre", "norrkoping"), capture_output=True, text=True,
                           timeout=h.RUN_TIMEOUT_S)
        self.assertEqual((r.returncode, r.stdout), (0, "configuration OK\n"), r.stderr)
        hub = self.inst.spawn(self.command(unit, "ExecStart", "norrkoping"), "unit-hub")
        line = hub.next_line(h.READY_TIMEOUT_S)
        self.assertRegex(line or "", h.READY_RE, hub.stderr_text())
        ingest = h.READY_RE.match(line)[1]
        ack = self.closing(h.RawClient(ingest, os.path.join(inst_dir, "keys", "hub"),
                                       self.inst.police.secret.replace(self.inst.dir, inst_dir))).request(
            [h.report()])
        self.assertAccepted(ack, 1)
        self.assertEqual(self.stop_as_systemd(unit, hub), 0, hub.stderr_text())

        # A broken hub.conf: both commands say so and exit with a status the unit does not restart on.
        with open(os.path.join(inst_dir, "hub.conf"), "a", encoding="utf-8") as f:
            f.write("\n[limits]\nmax_frame_bytes = lots\n")
        for key in ("ExecStartPre", "ExecStart"):
            r = subprocess.run(self.command(unit, key, "norrkoping"), capture_output=True, text=True,
                               timeout=h.RUN_TIMEOUT_S)
            self.assertIn(r.returncode, self.no_restart(unit), "%s: %s" % (key, r.stdout + r.stderr))
            self.assertIn("max_frame_bytes", r.stdout + r.stderr)

    def test_the_backup_unit_keeps_the_newest_seven_verified_copies(self):
        unit = read_unit("esthub-backup@.service")
        self.assertEqual(self.one(unit, "Type"), "oneshot")
        self.raw().request([h.report() for _ in range(5)])
        self.assertEqual(self.inst.stop(), 0)
        inst_dir = self.here("/var/lib/esthub/norrkoping")
        os.makedirs(os.path.dirname(inst_dir))
        os.rename(self.inst.dir, inst_dir)
        backups = self.here("/var/backups/esthub")
        os.makedirs(backups, mode=0o700)  # made once by root, as the unit says
        writable = [self.here(p) for p in self.one(unit, "ReadWritePaths").replace("%i", "norrkoping").split()]
        made = []
        for night in range(8):
            r = subprocess.run(self.command(unit, "ExecStart", "norrkoping"), capture_output=True, text=True,
                               timeout=h.RUN_TIMEOUT_S)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            made.append(re.search(r"^backup: (\S+) ", r.stdout, re.M)[1])
            self.assertTrue(any(made[-1].startswith(w + "/") for w in writable), "%s not writable" % made[-1])
        kept = sorted(os.path.join(backups, "norrkoping", f) for f in os.listdir(os.path.join(backups, "norrkoping")))
        self.assertEqual(kept, made[-7:], "the newest seven are kept")
        # The instance's files the copy needs to write (SQLite's -shm beside the store) may be written.
        self.assertIn(os.path.join(inst_dir, "data"), writable)

    def test_the_adapter_unit_runs_the_shipped_configuration(self):
        unit = read_unit("est-adapter@.service")
        # As an administrator installs it: the shipped file, its keys and its drop directory.
        conf = self.here("/etc/esthub/adapters/municipality.conf")
        os.makedirs(os.path.dirname(conf))
        os.makedirs(self.here("/etc/esthub/keys"))
        shutil.copy(self.inst.hub_cert, self.here("/etc/esthub/keys/hub"))
        shutil.copy(self.inst.muni.secret, self.here("/etc/esthub/keys/municipality_secret"))
        with open(os.path.join(h.SOURCE_DIR, "config", "adapters", "municipality.conf"), encoding="utf-8") as f:
            text = f.read().replace("tcp://esthub.norrkoping.example:7601", self.inst.ingest)
        with open(conf, "w", encoding="utf-8") as f:
            f.write(self.here(text))
        drop = self.here("/var/spool/esthub/municipality")
        os.makedirs(drop)
        # StateDirectory= makes the working directory (and the outboxes' directory).
        state = self.here("/var/lib/" + self.one(unit, "StateDirectory"))
        self.assertEqual(self.here(self.one(unit, "WorkingDirectory")), state)
        os.makedirs(state)
        writable = [self.here(p.lstrip("-")) for p in self.one(unit, "ReadWritePaths").split()]
        self.assertIn(state, writable)
        self.assertTrue(any(drop.startswith(p + "/") for p in writable), "the drop directory may be written")

        r = subprocess.run(self.command(unit, "ExecStartPre", "municipality"), cwd=state, capture_output=True,
                           text=True, timeout=h.RUN_TIMEOUT_S)
        self.assertEqual((r.returncode, r.stdout), (0, "configuration OK\n"), r.stderr)
        adapter = h.Proc(self.command(unit, "ExecStart", "municipality"), state,
                         os.path.join(self.inst.tmp, "unit-adapter.stderr"))
        self.addCleanup(adapter.kill)
        h.wait_until(lambda: "watching" in adapter.stderr_text() or not adapter.alive(), h.READY_TIMEOUT_S,
                     what=lambda: "est-adapter to watch: " + adapter.stderr_text()[-2000:])
        with open(os.path.join(h.SOURCE_DIR, "config", "sample", "partners", "kommunen-v47.csv"),
                  encoding="utf-8-sig") as f:
            h.drop_file(drop, "kommunen-v47.csv", "\ufeff" + f.read())
        h.wait_until(lambda: os.path.exists(os.path.join(drop, "done", "kommunen-v47.csv")), 30 * h.SLOW,
                     what=lambda: "the file in done/: " + adapter.stderr_text()[-2000:])
        self.assertTrue(os.path.exists(os.path.join(state, "municipality.outbox")), "the outbox in /var/lib/esthub")
        self.assertEqual(self.stop_as_systemd(unit, adapter), 0, adapter.stderr_text())
        accepted = [l for l in adapter.lines if " accepted " in l]
        self.assertEqual(len(accepted), 24, "\n".join(adapter.lines))

        # A configuration with an error: --check says where, with a status the unit does not restart on.
        with open(conf, "a", encoding="utf-8") as f:
            f.write("\n[adapter]\nbatch = many\n")
        r = subprocess.run(self.command(unit, "ExecStartPre", "municipality"), cwd=state, capture_output=True,
                           text=True, timeout=h.RUN_TIMEOUT_S)
        self.assertIn(r.returncode, self.no_restart(unit), r.stdout + r.stderr)
        self.assertIn("batch", r.stdout + r.stderr)

    def test_the_feed_unit_writes_the_pages_of_the_example(self):
        unit = read_unit("est-feed@.service")
        for path in h.SAMPLE_FILES:
            client = {"municipality.jsonl": self.inst.muni, "police.jsonl": self.inst.police,
                      "housing.jsonl": self.inst.housing}[os.path.basename(path)]
            r = self.inst.run_adapter(client, [path], timeout_s=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.inst.estctl("picture", "compile", "--week", "2026-W47", check=True)
        # The example of its options, installed as the unit's EnvironmentFile for est-feed@hageby.
        self.assertEqual(self.one(unit, "EnvironmentFile"), "/etc/esthub/feeds/%i.env")
        env = {}
        with open(os.path.join(SOURCE_UNITS, "est-feed-hageby.env"), encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    k, v = line.rstrip("\n").split("=", 1)
                    env[k] = v
        args = env["FEED_ARGS"].replace("tcp://esthub.norrkoping.example:7602", self.inst.feed)
        keys = self.here("/etc/esthub/keys")
        os.makedirs(keys)
        shutil.copy(self.inst.hub_cert, os.path.join(keys, "hub"))
        shutil.copy(self.inst.hageby.secret, os.path.join(keys, "hageby-grupp_secret"))
        shutil.copy(os.path.join(self.inst.dir, "keys", "sign.pem"), os.path.join(keys, "sign.pem"))
        state = self.here("/var/lib/" + self.one(unit, "StateDirectory"))
        self.assertEqual(self.here(self.one(unit, "WorkingDirectory")), state)
        os.makedirs(state)
        self.assertEqual(self.here(self.one(unit, "ReadWritePaths")), state)

        argv = self.command(unit, "ExecStart", "hageby", env={"FEED_ARGS": args})
        for w in argv[1:]:
            if w.startswith("/") and not w.startswith(keys):
                self.assertTrue(w.startswith(state + "/"), "est-feed writes only below its state directory: " + w)
        feed = h.Proc(argv, state, os.path.join(self.inst.tmp, "unit-feed.stderr"))
        self.addCleanup(feed.kill)
        page = os.path.join(state, "hageby-html", "2026-W47-hageby.html")
        h.wait_until(lambda: os.path.exists(page) or not feed.alive(), 30 * h.SLOW,
                     what=lambda: "the Hageby page: " + feed.stderr_text()[-2000:])
        self.assertTrue(feed.alive(), feed.stderr_text())
        for d, name in (("hageby-html", "2026-W47-all.html"), ("hageby-csv", "2026-W47-hageby.csv"),
                        ("hageby-geojson", "2026-W47-hageby.geojson")):
            h.wait_until(lambda: os.path.exists(os.path.join(state, d, name)), 10 * h.SLOW, what=name)
        self.assertEqual(self.stop_as_systemd(unit, feed), 0, feed.stderr_text())
        for bad in ("not checked", "does not verify", "cannot be checked", "not shown"):
            self.assertNotIn(bad, feed.stderr_text(), "every picture verified with the hub's key")
        with open(os.path.join(state, "hageby.state"), encoding="utf-8") as f:
            self.assertRegex(f.read(), r"\d+")
        self.assertTrue(any(" hageby/pictures " in l for l in feed.lines), "\n".join(feed.lines))

        # Options that are not est-feed's: a status the unit does not restart on.
        r = subprocess.run(self.command(unit, "ExecStart", "hageby", env={"FEED_ARGS": args + " --colour"}),
                           cwd=state, capture_output=True, text=True, timeout=h.RUN_TIMEOUT_S)
        self.assertIn(r.returncode, self.no_restart(unit), r.stdout + r.stderr)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_systemd_reads_every_unit_without_a_warning(self):
        """systemd's own check (syntax, keys, sections, that the programs exist), on copies whose
        programs are this build's."""
        for name in ("esthub@.service", "est-adapter@.service", "est-feed@.service", "esthub-backup@.service",
                     "esthub-backup@.timer"):
            with open(os.path.join(UNIT_DIR, name), encoding="utf-8") as f:
                text = f.read()
            for prog, path in PROGRAMS.items():
                text = text.replace(os.path.join(self.bindir(), prog) + " ", path + " ")
            copy = os.path.join(self.inst.tmp, name.replace("@", "@test"))
            with open(copy, "w", encoding="utf-8") as f:
                f.write(text)
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", copy], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), name)

    def bindir(self):
        """The directory the units run the programs from (the install prefix's bin)."""
        unit = read_unit("esthub@.service")
        return os.path.dirname(self.one(unit, "ExecStart").split()[0])


if __name__ == "__main__":
    unittest.main()
