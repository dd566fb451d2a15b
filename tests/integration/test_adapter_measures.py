# SPDX-License-Identifier: Apache-2.0
"""Measure updates through est-adapter (docs/measures.md): a partner's file in the json format
carries Measure objects ({"measureId", "status", "outcome"}) beside its reports; the adapter queues
them in its outbox, sends each in an envelope of its own and prints the hub's answer like a
report's (`FILE:LINE m1 - accepted SEQ`). Real hub, estctl and est-adapter: the housing company
marks its measure done from a plain file run and from a watched directory, sending the same update
again is a duplicate, another organisation is refused with the hub's reason, bad lines get their
FILE:LINE error, and a hub restart between queueing and sending still delivers the update once."""

import json
import os

import harness as h


def measure_line(mid, status=None, outcome=None, **extra):
    d = {"measureId": mid}
    if status:
        d["status"] = status
    if outcome:
        d["outcome"] = outcome
    d.update(extra)
    return json.dumps(d, ensure_ascii=False)


class AdapterMeasures(h.HubTestCase):
    fixed_ports = True  # the hub restarts on the same endpoint in one test

    def add_measure(self, *extra, org="housing"):
        r = self.inst.estctl("measure", "add", "--area", "hageby", "--kind", "lighting", "--org", org,
                             "--place", "Hageby centrum, gångvägen", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def show(self, mid):
        r = self.inst.estctl("measure", "show", mid)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def measure_entries(self, mid):
        r, entries = self.inst.run_feed(self.inst.admin, topics=("*/measures",), from_seq=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [e for e in entries if e.WhichOneof("body") == "measure" and e.measure.measure_id == mid]

    def outcome_of(self, lines, mid):
        got = [x for x in lines if x[2] == mid]
        self.assertEqual(len(got), 1, lines)
        return got[0]

    def test_plain_file_marks_done_and_again_is_a_duplicate(self):
        P = h.pb()
        mid = self.add_measure("--status", "decided")
        f = self.inst.write_jsonl([h.report("hb-lampa-1"),
                                   measure_line(mid, "MEASURE_STATUS_DONE", "Ny belysning uppsatt")],
                                  name="housing.jsonl")
        outbox = self.inst.new_outbox()
        r = self.inst.run_adapter(self.inst.housing, [f], outbox=outbox)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = h.parse_adapter_lines(r.stdout)
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertEqual(lines[0][1:5], (1, "hb-lampa-1", 0, "accepted"), r.stdout)
        file, record, _, rev, status, seq = self.outcome_of(lines, mid)
        self.assertEqual((file, record, rev, status), (f, 2, -1, "accepted"), r.stdout)
        seq = int(seq)
        self.assertGreater(seq, int(lines[0][5]))

        show = self.show(mid)
        self.assertRegex(show, r"status\s+done")
        self.assertIn("Ny belysning uppsatt", show)
        entries = self.measure_entries(mid)
        self.assertEqual([(e.seq, e.org, e.measure.status) for e in entries][-1],
                         (seq, "housing", P.MEASURE_STATUS_DONE))

        # The same file again through the same outbox: the report takes its earlier outcome,
        # the update is asked again and the hub says nothing changed (with the current seq).
        r = self.inst.run_adapter(self.inst.housing, [f], outbox=outbox, json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        results = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(len(results), 2, r.stdout)
        self.assertEqual(results[1], {"sourceId": mid, "status": "STATUS_DUPLICATE", "seq": str(seq)})
        self.assertEqual(len(self.measure_entries(mid)), len(entries), "a duplicate logs nothing")

        # The short status form and an outcome-only update (the follow-up of a done measure).
        f2 = self.inst.write_jsonl([measure_line(mid, outcome="Belysningen fungerar, inga nya larm")])
        r = self.inst.run_adapter(self.inst.housing, [f2])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.outcome_of(h.parse_adapter_lines(r.stdout), mid)[4], "accepted")
        self.assertIn("inga nya larm", self.show(mid))

    def test_bad_lines_and_refused_transitions(self):
        mid = self.add_measure()  # proposed
        f = self.inst.write_jsonl([
            measure_line(mid, "in_progress"),                    # 1: refused by the hub's lifecycle
            measure_line(mid, "finished"),                       # 2: no such status
            measure_line(mid, "decided", colour="red"),          # 3: unknown key
            measure_line(mid),                                   # 4: nothing to change
            json.dumps({"measureId": "", "status": "MEASURE_STATUS_DONE"}),  # 5: no id
            measure_line("m99", "done"),                         # 6: unknown measure (hub)
            measure_line(mid, "decided"),                        # 7: fine
        ], name="bad.jsonl")
        r = self.inst.run_adapter(self.inst.housing, [f])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = {x[1]: x for x in h.parse_adapter_lines(r.stdout)}
        self.assertEqual(sorted(lines), list(range(1, 8)), r.stdout)
        for n in range(1, 7):
            self.assertEqual(lines[n][4], "rejected", r.stdout)
        self.assertIn("a proposed measure must be decided before it can go to in_progress", lines[1][5])
        self.assertIn("status: not a measure status", lines[2][5])
        self.assertIn('unknown field "colour"', lines[3][5])
        self.assertIn("status: a measure update needs a new status or an outcome", lines[4][5])
        self.assertIn("measureId: required", lines[5][5])
        self.assertIn('unknown measure "m99"', lines[6][5])
        self.assertEqual(lines[7][4], "accepted", r.stdout)
        self.assertRegex(self.show(mid), r"status\s+decided")

        # --json: one Result a line, the measure id as source id (lines that could not be
        # translated are told first, at intake; the hub's answers follow).
        r = self.inst.run_adapter(self.inst.housing, [f], json_out=True)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        results = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(len(results), 7, r.stdout)
        self.assertIn({"sourceId": mid, "status": "STATUS_REJECTED",
                       "error": "status: not a measure status (proposed, decided, in_progress, done, "
                                "cancelled, or MEASURE_STATUS_DONE and the like)"}, results)
        self.assertIn({"status": "STATUS_REJECTED",
                       "error": "%s:5: measureId: required (the id the hub gave the measure, e.g. m3)" % f},
                      results)
        # Each line is judged as it comes: m1 is decided now, so line 1 goes through and line 7
        # would go back.
        self.assertEqual([x["status"] for x in results].count("STATUS_ACCEPTED"), 1, results)
        self.assertIn("measure %s is in_progress; a measure cannot go back to decided" % mid,
                      [x.get("error") for x in results])

    def test_another_organisation_is_refused(self):
        mid = self.add_measure("--status", "decided")
        f = self.inst.write_jsonl([measure_line(mid, "done", "Klart")])
        r = self.inst.run_adapter(self.inst.police, [f])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        (line,) = h.parse_adapter_lines(r.stdout)
        self.assertEqual(line[2:5], (mid, -1, "rejected"))
        self.assertIn("measure %s is not assigned to your organisation (police)" % mid, line[5])
        self.assertRegex(self.show(mid), r"status\s+decided")
        self.assertEqual(len(self.measure_entries(mid)), 1, "only the add and nothing of police")

    def test_watched_directory(self):
        mid = self.add_measure("--status", "decided")
        drop = os.path.join(self.inst.tmp, "drop")
        os.mkdir(drop)
        a = h.ServingAdapter(self.inst, self.inst.housing, "watch-measures", watch=drop)
        h.drop_file(drop, "done.jsonl", measure_line(mid, "MEASURE_STATUS_IN_PROGRESS") + "\n" +
                    measure_line(mid, "done", "Ny belysning uppsatt") + "\n")
        h.wait_until(lambda: len(a.outcomes()) >= 2, 20 * h.SLOW, what="two outcome lines")
        h.wait_until(lambda: os.path.exists(os.path.join(drop, "done", "done.jsonl")), 20 * h.SLOW,
                     what="the file in done/")
        outs = a.outcomes()
        self.assertEqual([(x[1], x[2], x[4]) for x in outs], [(1, mid, "accepted"), (2, mid, "accepted")])
        self.assertLess(int(outs[0][5]), int(outs[1][5]))
        self.assertEqual(a.stop(), 0, a.proc.stderr_text()[-1000:])
        self.assertRegex(self.show(mid), r"status\s+done")

    def test_hub_restart_between_queueing_and_sending_delivers_once(self):
        P = h.pb()
        mid = self.add_measure("--status", "decided")
        self.inst.stop()
        f = self.inst.write_jsonl([measure_line(mid, "done", "Ny belysning uppsatt")])
        outbox = self.inst.new_outbox()
        r = self.inst.run_adapter(self.inst.housing, [f], outbox=outbox, timeout_s=2)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "", "nothing has an outcome yet")
        self.assertIn("1 records stay queued", r.stderr)

        self.inst.start()
        r = self.inst.run_adapter(self.inst.housing, [], outbox=outbox)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        (line,) = h.parse_adapter_lines(r.stdout)
        self.assertEqual(line[:5], (f, 1, mid, -1, "accepted"))
        # Again from the file: asked again, a duplicate of the same entry.
        r = self.inst.run_adapter(self.inst.housing, [f], outbox=outbox)
        (again,) = h.parse_adapter_lines(r.stdout)
        self.assertEqual((again[4], again[5]), ("duplicate", line[5]))
        entries = self.measure_entries(mid)
        self.assertEqual([(e.org, e.measure.status) for e in entries],
                         [("esthub", P.MEASURE_STATUS_DECIDED), ("housing", P.MEASURE_STATUS_DONE)])


if __name__ == "__main__":
    import unittest
    unittest.main()
