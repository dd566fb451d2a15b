# SPDX-License-Identifier: Apache-2.0
"""`cmake --install` puts the four programs in PREFIX/bin, and they run from there, and the systemd
units in PREFIX/lib/systemd/system, as the build configured them."""

import os
import subprocess
import tempfile
import unittest

from harness import BUILD_DIR

PROGRAMS = ("esthub", "estctl", "est-adapter", "est-feed")


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
            for unit in ("esthub@.service", "est-adapter@.service", "est-feed@.service"):
                with open(os.path.join(prefix, "lib", "systemd", "system", unit), encoding="utf-8") as f:
                    installed = f.read()
                with open(os.path.join(BUILD_DIR, "config", "systemd", unit), encoding="utf-8") as f:
                    self.assertEqual(installed, f.read(), unit)
                self.assertNotIn("@CMAKE", installed, unit)
            r = subprocess.run([os.path.join(prefix, "bin", "esthub"), "check", inst],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.stdout.strip(), "configuration OK", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
