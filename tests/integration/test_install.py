# SPDX-License-Identifier: Apache-2.0
"""`cmake --install` puts the four programs in PREFIX/bin, and they run from there, and the systemd
units in PREFIX/lib/systemd/system, naming the programs in PREFIX/bin: the prefix given at install
time, whatever build/ was configured with, and under DESTDIR as a package build stages them."""

import os
import subprocess
import tempfile
import unittest

from harness import BUILD_DIR

PROGRAMS = ("esthub", "estctl", "est-adapter", "est-feed")
UNITS = ("esthub@.service", "est-adapter@.service", "est-feed@.service", "esthub-backup@.service")


class Install(unittest.TestCase):
    def test_install_puts_the_four_programs_in_prefix_bin(self):
        with tempfile.TemporaryDirectory(prefix="esthub-install-") as prefix:
            r = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", prefix],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            for name in PROGRAMS:
                path = os.path.join(prefix, "bin", name)
                self.assertTrue(os.access(path, os.X_OK), f"{path} missing")
                h = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
                self.assertEqual(h.returncode, 0, f"{name} --help: {h.stderr}")
                self.assertIn("usage", (h.stdout + h.stderr).lower(), name)
            # An installed esthub needs no source tree: init writes the built-in areas.
            inst = os.path.join(prefix, "instance")
            r = subprocess.run([os.path.join(prefix, "bin", "esthub"), "init", inst],
                               capture_output=True, text=True, timeout=60, cwd="/")
            self.assertEqual(r.returncode, 0, r.stderr)
            # It says what to do next, with the instance's own path.
            self.assertIn("next:", r.stdout)
            self.assertIn("estctl -d %s client add" % inst, r.stdout)
            self.assertIn("esthub run %s\n" % inst, r.stdout)
            self.check_units(os.path.join(prefix, "lib", "systemd", "system"), prefix)
            r = subprocess.run([os.path.join(prefix, "bin", "esthub"), "check", inst],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.stdout.strip(), "configuration OK", r.stdout + r.stderr)

    def check_units(self, unit_dir, prefix):
        """Each unit is the build's, with the programs in prefix/bin instead of the configured bindir."""
        for unit in UNITS:
            with open(os.path.join(unit_dir, unit), encoding="utf-8") as f:
                installed = f.read()
            with open(os.path.join(BUILD_DIR, "config", "systemd", unit), encoding="utf-8") as f:
                built = f.read()
            self.assertNotIn("@CMAKE", installed, unit)
            execs = [line for line in installed.splitlines() if line.startswith("ExecStart")]
            self.assertTrue(execs, unit)
            for line in execs:
                program = line.split("=", 1)[1].split()[0]
                self.assertEqual(os.path.dirname(program), os.path.join(prefix, "bin"), line)
            configured = os.path.dirname(
                [line for line in built.splitlines() if line.startswith("ExecStart=")][0]
                .split("=", 1)[1].split()[0])
            self.assertEqual(installed, built.replace(configured + "/", os.path.join(prefix, "bin") + "/"),
                             unit)
        with open(os.path.join(unit_dir, "esthub-backup@.timer"), encoding="utf-8") as f:
            self.assertIn("OnCalendar=", f.read())

    def test_units_name_the_prefix_given_at_install_under_destdir(self):
        # As a package is built: installed for /opt/esthub, staged under DESTDIR.
        with tempfile.TemporaryDirectory(prefix="esthub-destdir-") as stage:
            env = dict(os.environ, DESTDIR=stage)
            r = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", "/opt/esthub"],
                               capture_output=True, text=True, timeout=120, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertFalse(os.path.exists("/opt/esthub/lib/systemd"), "installed outside DESTDIR")
            self.assertTrue(os.access(os.path.join(stage, "opt/esthub/bin/esthub"), os.X_OK))
            self.check_units(os.path.join(stage, "opt/esthub/lib/systemd/system"), "/opt/esthub")


if __name__ == "__main__":
    unittest.main()
