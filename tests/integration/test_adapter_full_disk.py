# SPDX-License-Identifier: Apache-2.0
"""An adapter whose own disk is full: its outbox lives on a small tmpfs that the test fills.
A file dropped meanwhile waits in the drop directory (neither done/ nor failed/) and the adapter
says why; an HTTP request gets 503 with Retry-After and the reason, not a 500 a partner's client
would take as final. Once space is freed the file is delivered and the request accepted, each
report in the log once, and what was delivered before the disk filled is not sent again. And
est-feed writing pages onto a full disk: it stops naming the page and the reason, its state stays
before that picture, and the next run writes every page."""

import json
import os
import subprocess
import unittest

import harness as h

TMPFS_SIZE = "4m"


class AdapterFullDisk(h.HubTestCase):
    fixed_ports = True

    def setUp(self):
        super().setUp()
        self.fs = os.path.join(self.inst.tmp, "adapter-fs")
        os.mkdir(self.fs)
        h.mount_tmpfs(self, self.inst, self.fs, TMPFS_SIZE)
        self.outbox = os.path.join(self.fs, "outbox.db")
        self.drop = os.path.join(self.inst.tmp, "drop")
        os.mkdir(self.drop)

    def drop_listing(self):
        return sorted(os.path.relpath(os.path.join(dp, f), self.drop)
                      for dp, _, fs in os.walk(self.drop) for f in fs)

    def stored_keys(self):
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        return [(e.report.source_id, e.report.revision) for e in log if e.WhichOneof("body") == "report"]

    def test_a_dropped_file_waits_for_space_then_is_delivered_once(self):
        a = h.ServingAdapter(self.inst, self.inst.police, "watch-full", watch=self.drop, outbox=self.outbox)
        before = [h.report() for _ in range(3)]
        h.drop_file(self.drop, "before.jsonl", h.report_lines(before))
        h.wait_until(lambda: os.path.exists(os.path.join(self.drop, "done", "before.jsonl")), 20 * h.SLOW,
                     what=lambda: "before.jsonl in done/ (%s)" % self.drop_listing())

        filler = h.fill_filesystem(self.fs, 8 * 1024)
        during = [h.report() for _ in range(40)]
        h.drop_file(self.drop, "during.jsonl", h.report_lines(during))
        h.wait_until(lambda: "during.jsonl waits" in a.proc.stderr_text(), 20 * h.SLOW,
                     what=lambda: "the adapter to say the file waits:\n" + a.proc.stderr_text()[-2000:])
        said = [l for l in a.proc.stderr_text().splitlines() if "during.jsonl waits" in l][0]
        self.assertIn(self.outbox, said)
        self.assertIn("full", said)
        self.assertTrue(os.path.exists(os.path.join(self.drop, "during.jsonl")), self.drop_listing())
        self.assertEqual([f for f in self.drop_listing() if f != "during.jsonl"], ["done/before.jsonl"])
        self.assertTrue(a.proc.alive(), "the adapter stays up")

        os.unlink(filler)
        h.wait_until(lambda: os.path.exists(os.path.join(self.drop, "done", "during.jsonl")), 30 * h.SLOW,
                     what=lambda: "during.jsonl in done/ once space was freed (%s)" % self.drop_listing())
        h.wait_until(lambda: len([l for l in a.outcomes() if l[4] == "accepted"]) == 43, 20 * h.SLOW,
                     what="43 accepted outcome lines")
        self.assertEqual(a.stop(), 0)
        stored = self.stored_keys()
        self.assertEqual(sorted(stored), sorted(h.report_key(r) for r in before + during),
                         "every report once")

    def test_http_gets_503_with_retry_after_while_the_disk_is_full(self):
        a = h.ServingAdapter(self.inst, self.inst.muni, "listen-full", listen="127.0.0.1:0", outbox=self.outbox,
                             extra=["--listen-wait", "5"])
        first = [h.report() for _ in range(2)]
        status, _, text = h.http_request(a.port, h.report_lines(first))
        self.assertEqual(status, 200, text)

        filler = h.fill_filesystem(self.fs, 8 * 1024)
        refused = [h.report() for _ in range(40)]
        status, headers, text = h.http_request(a.port, h.report_lines(refused))
        self.assertEqual(status, 503, text)
        self.assertIn("retry-after", headers)
        err = json.loads(text)["error"]
        self.assertIn(self.outbox, err)
        self.assertIn("full", err)
        self.assertIn("send it again later", err)
        self.assertTrue(a.proc.alive(), "the adapter stays up")

        os.unlink(filler)
        status, _, text = h.http_request(a.port, h.report_lines(refused))
        self.assertEqual(status, 200, text)
        self.assertEqual([r["status"] for r in json.loads(text)], ["accepted"] * len(refused))
        self.assertEqual(a.stop(), 0)
        self.assertEqual(sorted(self.stored_keys()), sorted(h.report_key(r) for r in first + refused))


class FeedFullDisk(h.HubTestCase):
    """est-feed writing pages onto a full disk: exit 2 naming the page and the reason, its state
    left before the picture it could not write, and the next run writes it."""

    def test_a_page_not_written_is_written_by_the_next_run(self):
        self.assertAccepted(self.raw().request([h.report() for _ in range(3)]), 3)
        self.inst.estctl("picture", "compile", check=True)
        out = os.path.join(self.inst.tmp, "pages")
        os.mkdir(out)
        h.mount_tmpfs(self, self.inst, out, "1m")
        state = os.path.join(self.inst.tmp, "feed.state")
        argv = self.inst.feed_argv(self.inst.admin, topics=("*/pictures",), state=state, json_out=False) + [
            "--html", out]

        def run():
            return subprocess.run(argv, cwd=self.inst.tmp, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=60 * h.SLOW)

        filler = h.fill_filesystem(out, 8 * 1024)
        r = run()
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(out, r.stderr)
        self.assertIn("No space left on device", r.stderr)
        first_picture = min(e.seq for e in self.inst.read_log() if e.WhichOneof("body") == "picture")
        if os.path.exists(state):
            with open(state) as f:
                self.assertLess(int(f.read().split()[0]), first_picture, "the state passed a page not written")
        self.assertEqual(os.listdir(out), ["filler"], "a page half written or its temporary file left")

        os.unlink(filler)
        r = run()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pages = sorted(f for f in os.listdir(out) if f.endswith(".html"))
        self.assertIn("index.html", pages)
        self.assertEqual(len(pages), 7, pages)  # the five areas, the overview and the index


if __name__ == "__main__":
    unittest.main()
