# SPDX-License-Identifier: Apache-2.0
"""Delivery modes and store-and-forward of est-adapter against a real hub: the drop directory
(--watch: done/, failed/ with NAME.error, restarts, the hub away, the outbox cap), the HTTP
endpoint (--listen, driven with real HTTP clients: 200, 202 queued while the hub is away, 400,
404, 405, 413, 503), the hub stopped for a while and restarted while three adapters keep feeding
(nothing lost, nothing doubled), and adapters SIGKILLed mid-batch and restarted.

The hub is away for 10 s here; `bash scripts/faults.sh` keeps it away for minutes
(ESTHUB_FAULT_AWAY_S): the sender retries with a capped backoff and never gives up in --watch and
--listen modes."""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

import harness as h


class DropDirectory(h.HubTestCase):
    fixed_ports = True

    def setUp(self):
        super().setUp()
        self.drop = os.path.join(self.inst.tmp, "drop")
        os.mkdir(self.drop)

    def path(self, *parts):
        return os.path.join(self.drop, *parts)

    def wait_files(self, *rel, timeout_s=20):
        h.wait_until(lambda: all(os.path.exists(self.path(r)) for r in rel), timeout_s * h.SLOW,
                     what=lambda: "%s (drop dir: %s)" % (", ".join(rel), sorted(
                         os.path.relpath(os.path.join(dp, f), self.drop)
                         for dp, _, fs in os.walk(self.drop) for f in fs)))

    def test_files_move_to_done_or_failed_and_a_restart_sends_nothing_twice(self):
        early = [h.report() for _ in range(2)]
        with open(self.path("early.jsonl"), "w", encoding="utf-8") as f:
            f.write(h.report_lines(early))  # there before the adapter starts
        a = h.ServingAdapter(self.inst, self.inst.police, "watch-1", watch=self.drop)
        self.wait_files("done/early.jsonl")

        good = [h.report() for _ in range(5)]
        h.drop_file(self.drop, "good.jsonl", h.report_lines(good))
        fine = h.report()
        bad_severity = h.report(severity=9)
        h.drop_file(self.drop, "bad.jsonl", h.report_lines([fine]) + "garbage, not JSON\n" + h.report_lines([bad_severity])
                    + '{"sourceId":"","category":"CATEGORY_VANDALISM","area":"hageby","observedAt":"%d"}\n'
                    % (h.now() - 60))
        h.drop_file(self.drop, "empty.jsonl", "")
        with open(self.path("partner-writing.tmp"), "w") as f:
            f.write(h.report_lines([h.report()]))
        with open(self.path(".hidden"), "w") as f:
            f.write(h.report_lines([h.report()]))
        self.wait_files("done/good.jsonl", "done/empty.jsonl", "failed/bad.jsonl", "failed/bad.jsonl.error")

        with open(self.path("failed", "bad.jsonl.error"), encoding="utf-8") as f:
            err = f.read()
        self.assertIn("3 of 4 records not delivered", err)
        err_lines = err.splitlines()[1:]
        self.assertEqual([l.split(" ")[0] for l in err_lines], ["bad.jsonl:2", "bad.jsonl:3", "bad.jsonl:4"],
                         "each bad record named by its line:\n" + err)
        self.assertIn("JSON", err_lines[0])
        self.assertIn("severity", err_lines[1])
        self.assertIn(bad_severity.source_id, err_lines[1])
        self.assertIn("source_id", err_lines[2])
        self.assertTrue(os.path.exists(self.path("partner-writing.tmp")), "*.tmp is left alone")
        self.assertTrue(os.path.exists(self.path(".hidden")), "dotfiles are left alone")
        self.assertFalse(os.path.exists(self.path("good.jsonl")))

        first = {(l[2], l[3]): l for l in a.outcomes() if l[4] == "accepted"}
        self.assertEqual(a.stop(), 0, "SIGTERM ends --watch with 0: " + a.proc.stderr_text()[-1000:])

        # While the adapter is down: the same content again, and new reports. Both are read at the
        # restart; the repeat gets the earlier outcome without anything sent.
        h.drop_file(self.drop, "again.jsonl", h.report_lines(good))
        new = [h.report() for _ in range(2)]
        h.drop_file(self.drop, "new.jsonl", h.report_lines(new))
        a2 = h.ServingAdapter(self.inst, self.inst.police, "watch-2", watch=self.drop, outbox=a.outbox)
        self.wait_files("done/again.jsonl", "done/new.jsonl")
        # The same name again does not replace what done/ holds.
        h.drop_file(self.drop, "good.jsonl", h.report_lines(good))
        self.wait_files("done/good.jsonl.1")
        self.assertEqual(a2.stop(), 0)

        again = [l for l in a2.outcomes() if l[0].endswith("again.jsonl")]
        self.assertEqual([(l[2], l[3]) for l in again], [h.report_key(r) for r in good])
        for l in again:
            self.assertEqual(l[4], "accepted", "the earlier outcome")
            self.assertEqual(l[5], first[(l[2], l[3])][5], "with the earlier seq")

        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        stored = {k[1:] for k in self.reports_in_log(log)}
        want = {h.report_key(r) for r in early + good + [fine] + new}
        self.assertEqual(stored, want, "every good record exactly once, nothing else")

    def test_a_second_adapter_on_the_directory_is_refused(self):
        # Two adapters on one drop directory (a unit started twice, a configuration copied) would
        # both read every file and race for its move: the second is refused before it reads.
        a = h.ServingAdapter(self.inst, self.inst.police, "watch-first", watch=self.drop)
        with self.assertRaises(AssertionError) as refused:  # it exits instead of watching
            h.ServingAdapter(self.inst, self.inst.police, "watch-second", watch=self.drop)
        self.assertIn("est-adapter exited 2: ", str(refused.exception))
        self.assertIn("est-adapter: --watch %s: another est-adapter watches this directory already "
                      "(each file would be read by both); stop that one, or give this one a directory "
                      "of its own" % self.drop, str(refused.exception))
        reports = [h.report() for _ in range(3)]
        h.drop_file(self.drop, "one.jsonl", h.report_lines(reports))
        self.wait_files("done/one.jsonl")
        self.assertEqual(sorted(os.listdir(self.path("failed"))), [])
        self.assertEqual(a.stop(), 0)
        # Once the first is gone, the directory is free for the next.
        b = h.ServingAdapter(self.inst, self.inst.police, "watch-next", watch=self.drop, outbox=a.outbox)
        self.assertEqual(b.stop(), 0)
        stored = {k[1:] for k in self.reports_in_log(self.inst.read_log())}
        self.assertEqual(stored, {h.report_key(r) for r in reports})

    def test_files_are_taken_while_the_hub_is_away_up_to_the_cap(self):
        a = h.ServingAdapter(self.inst, self.inst.housing, "watch-cap", watch=self.drop,
                             extra=["--max-pending", "6", "--verbose"])
        self.assertEqual(self.inst.stop(), 0)
        f1, f2 = [h.report() for _ in range(4)], [h.report() for _ in range(4)]
        h.drop_file(self.drop, "f1.jsonl", h.report_lines(f1))
        h.wait_until(lambda: "f1.jsonl: 4 records queued" in a.proc.stderr_text(), 10 * h.SLOW,
                     what="f1 taken into the outbox while the hub is away")
        h.drop_file(self.drop, "f2.jsonl", h.report_lines(f2))
        h.wait_until(lambda: "f2.jsonl waits in" in a.proc.stderr_text(), 10 * h.SLOW,
                     what="f2 refused for now: the outbox is at its cap")
        self.assertIn("--max-pending", a.proc.stderr_text())
        time.sleep(1)
        self.assertEqual(sorted(os.listdir(self.drop)), ["done", "f1.jsonl", "f2.jsonl", "failed"],
                         "both wait in the directory until answered")
        self.assertEqual(a.outcomes(), [])

        self.inst.start()
        self.wait_files("done/f1.jsonl", "done/f2.jsonl", timeout_s=30)
        # More records than the outbox may ever hold: refused whole.
        h.drop_file(self.drop, "big.jsonl", h.report_lines([h.report() for _ in range(7)]))
        self.wait_files("failed/big.jsonl", "failed/big.jsonl.error")
        with open(self.path("failed", "big.jsonl.error")) as f:
            self.assertIn("refused whole", f.read())
        self.assertEqual(a.stop(), 0)
        stored = {k[1:] for k in self.reports_in_log(self.inst.read_log())}
        self.assertEqual(stored, {h.report_key(r) for r in f1 + f2})


class HttpEndpoint(h.HubTestCase):
    fixed_ports = True

    def post_json(self, port, body, **kw):
        status, headers, text = h.http_request(port, body, **kw)
        return status, headers, json.loads(text) if text else None

    def test_statuses_and_outcomes(self):
        a = h.ServingAdapter(self.inst, self.inst.muni, "listen", listen="127.0.0.1:0",
                             extra=["--listen-wait", "5", "--max-body", "4096"])
        port = a.port
        # The port is taken: a second adapter says so and ends with 2.
        r = subprocess.run(self.inst.adapter_argv(self.inst.muni, [], outbox=self.inst.new_outbox(),
                                                  extra=["--listen", "127.0.0.1:%d" % port]),
                           capture_output=True, text=True, timeout=30 * h.SLOW)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--listen 127.0.0.1:%d: cannot serve HTTP there: Failed to bind to port %d: "
                      "Address already in use" % (port, port), r.stderr)
        reps = [h.report() for _ in range(3)]
        status, headers, res = self.post_json(port, h.report_lines(reps))
        self.assertEqual(status, 200, res)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertEqual([(r["record"], r["sourceId"], r["revision"], r["status"]) for r in res],
                         [(i + 1, x.source_id, 0, "accepted") for i, x in enumerate(reps)])
        seqs = [int(r["seq"]) for r in res]

        # The same body again: each record has the earlier outcome, nothing is sent.
        status, _, res2 = self.post_json(port, h.report_lines(reps))
        self.assertEqual(status, 200)
        self.assertEqual([int(r["seq"]) for r in res2], seqs)

        # One Report object, pretty-printed, to /reports; an array of them; good and bad mixed.
        one = h.report()
        status, _, res = self.post_json(port, json.dumps(json.loads(h.report_json(one)), indent=2),
                                        path="/reports")
        self.assertEqual((status, res[0]["status"], res[0]["sourceId"]), (200, "accepted", one.source_id))
        two = [h.report(), h.report()]
        status, _, res = self.post_json(port, "[%s]" % ",".join(h.report_json(r) for r in two))
        self.assertEqual((status, [r["status"] for r in res]), (200, ["accepted", "accepted"]))
        ok, bad = h.report(), h.report(severity=7)
        status, _, res = self.post_json(port, h.report_lines([ok, bad]))
        self.assertEqual((status, [r["status"] for r in res]), (200, ["accepted", "rejected"]))
        self.assertTrue(res[1]["error"].startswith("severity"), res[1])
        self.assertNotIn("seq", res[1])

        # Not the format at all, nothing, another method, another path, too large.
        status, _, res = self.post_json(port, "this is not JSON at all")
        self.assertEqual(status, 400)
        self.assertEqual((res[0]["record"], res[0]["status"], res[0]["sourceId"]), (1, "rejected", None))
        status, _, res = self.post_json(port, "")
        self.assertEqual(status, 400)
        self.assertIn("no record", res["error"])
        status, headers, res = self.post_json(port, None, method="GET")
        self.assertEqual((status, headers.get("allow")), (405, "POST"))
        self.assertIn("POST", res["error"])
        status, _, _ = self.post_json(port, h.report_lines([h.report()]), path="/elsewhere")
        self.assertEqual(status, 404)
        status, _, res = self.post_json(port, h.report_lines([h.report() for _ in range(30)]))
        self.assertEqual(status, 413)
        self.assertIn("4096", res["error"])

        # curl, as a partner's script would call it.
        cr = h.report()
        r = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
                            "--data-binary", h.report_json(cr), "http://127.0.0.1:%d/reports" % port],
                           capture_output=True, text=True, timeout=30 * h.SLOW)
        body, code = r.stdout.rsplit("\n", 1)
        self.assertEqual(code, "200", r.stdout + r.stderr)
        self.assertEqual(json.loads(body)[0]["status"], "accepted")

        self.assertEqual(a.stop(), 0)
        printed = a.outcomes()
        self.assertTrue(all(l[0].startswith("http/") for l in printed), printed)
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        stored = {k[1:] for k in self.reports_in_log(log)}
        self.assertEqual(stored, {h.report_key(r) for r in reps + [one] + two + [ok, cr]})
        by_key = {k[1:]: v[0].seq for k, v in self.reports_in_log(log).items()}
        self.assertEqual([by_key[h.report_key(r)] for r in reps], seqs, "the seqs answered are the log's")

    def test_queued_while_the_hub_is_away_then_delivered_and_503_at_the_cap(self):
        a = h.ServingAdapter(self.inst, self.inst.police, "listen-away", listen="127.0.0.1:0",
                             extra=["--listen-wait", "1", "--max-pending", "4"])
        self.assertEqual(self.inst.stop(), 0)
        first = [h.report() for _ in range(3)]
        t0 = time.monotonic()
        status, _, res = self.post_json(a.port, h.report_lines(first))
        self.assertEqual(status, 202, res)
        self.assertLess(time.monotonic() - t0, 5 * h.SLOW, "answered after --listen-wait")
        self.assertEqual([(r["sourceId"], r["status"]) for r in res], [(x.source_id, "queued") for x in first])

        refused = [h.report() for _ in range(2)]
        status, headers, res = self.post_json(a.port, h.report_lines(refused))
        self.assertEqual(status, 503, res)
        self.assertIn("--max-pending", res["error"])
        self.assertIn("retry-after", headers)
        last = h.report()
        status, _, res = self.post_json(a.port, h.report_lines([last]))
        self.assertEqual((status, res[0]["status"]), (202, "queued"))

        self.inst.start()
        h.wait_until(lambda: len([l for l in a.outcomes() if l[4] == "accepted"]) == 4, 30 * h.SLOW,
                     what="the queued records delivered once the hub is back")
        status, _, res = self.post_json(a.port, h.report_lines(refused))
        self.assertEqual((status, [r["status"] for r in res]), (200, ["accepted", "accepted"]))
        self.assertEqual(a.stop(), 0)
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        self.assertEqual({k[1:] for k in self.reports_in_log(log)},
                         {h.report_key(r) for r in first + refused + [last]})


    def test_a_stop_answers_waiting_requests(self):
        a = h.ServingAdapter(self.inst, self.inst.police, "listen-stop", listen="127.0.0.1:0",
                             extra=["--listen-wait", "60"])
        self.assertEqual(self.inst.stop(), 0)
        reps = [h.report() for _ in range(2)]
        got = {}
        t = threading.Thread(target=lambda: got.update(r=h.http_request(a.port, h.report_lines(reps))), daemon=True)
        t.start()
        time.sleep(1 * h.SLOW)  # the POST is queued and waits for the hub
        self.assertTrue(t.is_alive(), "still waiting when the stop comes")
        t0 = time.monotonic()
        self.assertEqual(a.stop(), 0, a.proc.stderr_text()[-2000:])
        t.join(10 * h.SLOW)
        self.assertLess(time.monotonic() - t0, 5 * h.SLOW, "answered at the stop, not after --listen-wait")
        status, _, text = got["r"]
        self.assertEqual(status, 202)
        self.assertEqual([r["status"] for r in json.loads(text)], ["queued", "queued"])
        # Durable: the next run delivers them.
        self.inst.start()
        b = h.ServingAdapter(self.inst, self.inst.police, "listen-after", listen="127.0.0.1:0", outbox=a.outbox)
        h.wait_until(lambda: len([l for l in b.outcomes() if l[4] == "accepted"]) == 2, 30 * h.SLOW,
                     what="the queued records delivered by the next run")
        self.assertEqual(b.stop(), 0)
        self.assertEqual({k[1:] for k in self.reports_in_log(self.inst.read_log())},
                         {h.report_key(r) for r in reps})


class HubAwayWhileFeeding(h.HubTestCase):
    """Three adapters, one per delivery mode, keep feeding while the hub is stopped for 10 s and
    started again: every record is in the log exactly once."""

    fixed_ports = True
    HUB_AWAY_S = int(os.environ.get("ESTHUB_FAULT_AWAY_S", "10"))  # scripts/faults.sh: 180

    def test_nothing_lost_nothing_doubled(self):
        drop = os.path.join(self.inst.tmp, "drop")
        os.mkdir(drop)
        watcher = h.ServingAdapter(self.inst, self.inst.police, "watch", watch=drop)
        listener = h.ServingAdapter(self.inst, self.inst.housing, "listen", listen="127.0.0.1:0",
                                    extra=["--listen-wait", "1"])
        files_outbox = self.inst.new_outbox()
        sent = {"police": [], "housing": [], "municipality": []}
        problems = []
        stop = threading.Event()

        def feed_watch():
            n = 0
            while not stop.is_set():
                reps = [h.report() for _ in range(3)]
                h.drop_file(drop, "batch-%03d.jsonl" % n, h.report_lines(reps))
                sent["police"] += reps
                n += 1
                stop.wait(0.2)

        def feed_http():
            while not stop.is_set():
                reps = [h.report() for _ in range(3)]
                try:
                    status, _, _ = h.http_request(listener.port, h.report_lines(reps), timeout_s=20)
                except OSError as e:
                    problems.append("POST: %s" % e)
                    return
                if status not in (200, 202):
                    problems.append("POST answered %d" % status)
                sent["housing"] += reps
                stop.wait(0.2)

        def feed_files():
            n = 0
            while not stop.is_set():
                reps = [h.report() for _ in range(3)]
                f = self.inst.write_jsonl(reps, "cmdline-%03d.jsonl" % n)
                sent["municipality"] += reps
                r = self.inst.run_adapter(self.inst.muni, [f], outbox=files_outbox,
                                          timeout_s=60 + self.HUB_AWAY_S)
                if r.returncode != 0:
                    problems.append("est-adapter FILE exited %d: %s" % (r.returncode, r.stderr[-500:]))
                n += 1

        threads = [threading.Thread(target=t, daemon=True) for t in (feed_watch, feed_http, feed_files)]
        for t in threads:
            t.start()
        time.sleep(2)
        self.assertEqual(self.inst.stop(), 0)
        time.sleep(self.HUB_AWAY_S)
        self.inst.start()
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join(90 * h.SLOW)
            self.assertFalse(t.is_alive(), "a feeder did not finish")
        self.assertEqual(problems, [])

        # Everything dropped reaches done/; every POSTed record gets its outcome.
        h.wait_until(lambda: not [n for n in os.listdir(drop) if n.endswith(".jsonl")], 60 * h.SLOW,
                     what=lambda: "the drop directory to empty: %s" % sorted(os.listdir(drop)))
        self.assertEqual(os.listdir(os.path.join(drop, "failed")), [])
        keys = {org: {h.report_key(r) for r in reps} for org, reps in sent.items()}
        h.wait_until(lambda: {(l[2], l[3]) for l in listener.outcomes() if l[4] == "accepted"} == keys["housing"],
                     60 * h.SLOW, what="every POSTed record accepted")
        self.assertEqual(watcher.stop(), 0)
        self.assertEqual(listener.stop(), 0)

        log = self.inst.read_log()
        self.assertLogWellFormed(log)  # also: no (org, source_id, revision) twice
        stored = self.reports_in_log(log)
        for org, want in keys.items():
            got = {k[1:] for k in stored if k[0] == org}
            self.assertEqual(got, want, "%s: every record exactly once" % org)
            self.assertGreater(len(want), 9, "%s kept feeding" % org)


class AdapterKilled(h.HubTestCase):
    """An adapter SIGKILLed mid-batch and started again delivers everything exactly once."""

    N = 1000

    def test_files_adapter_killed_mid_batch(self):
        reps = [h.report("kill-files-%04d" % i) for i in range(self.N)]
        f = self.inst.write_jsonl(reps, "kill.jsonl")
        outbox = self.inst.new_outbox()
        argv = self.inst.adapter_argv(self.inst.muni, [f], outbox=outbox, timeout_s=60,
                                      extra=["--batch", "5", "--window", "1"])
        p = self.inst.spawn(argv, "adapter-killed")
        h.wait_until(lambda: len(p.lines) >= 30, 30 * h.SLOW, what="the first answers")
        p.signal(signal.SIGKILL)
        p.wait(10)
        before = len(p.lines)
        self.assertLess(before, self.N, "killed mid-batch")
        # The partner runs the same command again.
        r = self.inst.run_adapter(self.inst.muni, [f], outbox=outbox, timeout_s=60)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        lines = h.parse_adapter_lines(r.stdout)
        self.assertEqual(sorted(l[1] for l in lines if l[0] == f), list(range(1, self.N + 1)),
                         "every record of the file has its outcome, printed once")
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        self.assertEqual({k[1:] for k in self.reports_in_log(log)}, {h.report_key(x) for x in reps})

    def test_watching_adapter_killed_mid_batch(self):
        drop = os.path.join(self.inst.tmp, "drop")
        os.mkdir(drop)
        reps = [h.report("kill-watch-%04d" % i) for i in range(self.N)]
        a = h.ServingAdapter(self.inst, self.inst.police, "watch-killed", watch=drop,
                             extra=["--batch", "5", "--window", "1"])
        h.drop_file(drop, "big.jsonl", h.report_lines(reps))
        h.wait_until(lambda: len(a.proc.lines) >= 30, 30 * h.SLOW, what="the first answers")
        a.kill9()
        self.assertLess(len(a.proc.lines), self.N, "killed mid-batch")
        self.assertTrue(os.path.exists(os.path.join(drop, "big.jsonl")), "unfinished: still in the directory")
        a2 = h.ServingAdapter(self.inst, self.inst.police, "watch-again", watch=drop, outbox=a.outbox)
        h.wait_until(lambda: os.path.exists(os.path.join(drop, "done", "big.jsonl")), 60 * h.SLOW,
                     what="big.jsonl in done/ after the restart")
        self.assertEqual(a2.stop(), 0)
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        self.assertEqual({k[1:] for k in self.reports_in_log(log)}, {h.report_key(x) for x in reps})


if __name__ == "__main__":
    unittest.main()
