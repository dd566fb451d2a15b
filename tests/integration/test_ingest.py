# SPDX-License-Identifier: Apache-2.0
"""Acceptance: reports pushed by est-adapter and by a raw client are validated, appended
to the log at consecutive seqs, acknowledged with those seqs, and read back unchanged."""

import json
import math
import os
import re
import signal
import subprocess
import time
import unittest

import zmq

import harness as h


def thread_policies(pid):
    """(name, scheduling policy) of each thread of process pid; a thread that ends while this
    reads (the hub's index builder, once done) is left out."""
    found = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            found.append((name, os.sched_getscheduler(int(tid))))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


class Acceptance(h.HubTestCase):
    commit_thread = None  # limits.commit_thread as hub.conf sets it; None: the default (auto)

    def configure(self, inst):
        if self.commit_thread is not None:
            inst.conf_set("limits", "commit_thread", self.commit_thread)

    def test_says_where_batches_commit(self):
        """The hub says at start where batches commit, and auto decides by the CPUs the hub may
        run on (its affinity mask, as this test process sees it): the committer's thread from 3."""
        cpus = len(os.sched_getaffinity(0))
        setting = self.commit_thread or "auto"
        err = self.inst.hub.proc.stderr_text()
        # A machine whose cgroups set a CPU quota below the mask counts that (CpuQuota below).
        m = re.search(r"\((\d+) CPUs?: a cgroup CPU quota of ([0-9.]+), ", err)
        if m:
            self.assertEqual(int(m.group(1)), math.ceil(float(m.group(2))))
            self.assertLess(int(m.group(1)), cpus)
            cpus, why = int(m.group(1)), ": a cgroup CPU quota of " + m.group(2)
        else:
            why = ""
        thread = setting == "on" or (setting == "auto" and cpus >= 3)
        said = "batches of more than 64 reports commit on a thread of their own" if thread \
            else "every batch commits on the thread that received it"
        want = "esthub: ingest: %s (%d CPU%s%s, limits.commit_thread = %s)" % (
            said, cpus, "" if cpus == 1 else "s", why, setting)
        self.assertIn(want, err)

    def io_policies(self):
        """{name: set of policies} of the hub's threads, and those of its two I/O threads."""
        policies = {}
        for name, policy in thread_policies(self.inst.hub.proc.p.pid):
            policies.setdefault(name, set()).add(policy)
        io = {n: p for n, p in policies.items() if n.startswith("ZMQbg/IO/")}
        self.assertEqual(len(io), 2, policies)
        return policies, io

    @unittest.skipUnless(os.access(h.BENCH_LOAD, os.X_OK), "bench-load not built (%s)" % h.BENCH_LOAD)
    def test_io_threads_batch_only_while_busy(self):
        """ZeroMQ's I/O threads run in the normal policy while ingest is light (a sender waiting
        for each ack is not kept waiting for them), in SCHED_BATCH while it is busy (4 senders x
        100 in flight: a wake-up does not preempt the thread that commits), and in the normal
        policy again once the load is gone; the hub's own threads keep the normal policy."""
        policies, io = self.io_policies()
        self.assertEqual(set().union(*io.values()), {os.SCHED_OTHER}, "at rest")
        self.assertEqual(policies["esthub"], {os.SCHED_OTHER})
        self.assertIn(os.SCHED_BATCH,
                      self.load_seen(["--senders", "4", "--window", "100", "--seconds", "3"]),
                      "the I/O threads in SCHED_BATCH under 4 x 100 in flight")
        h.wait_until(lambda: set().union(*self.io_policies()[1].values()) == {os.SCHED_OTHER},
                     10 * h.SLOW, what="the I/O threads back in the normal policy after the load")
        # One sender waiting for each ack leaves them there.
        self.assertEqual(self.load_seen(["--senders", "1", "--wait", "--seconds", "2"]),
                         {os.SCHED_OTHER}, "one sender waiting")

    def load_seen(self, args):
        """Runs bench-load with args against the hub; the policies its I/O threads were seen in
        meanwhile (sampled every 50 ms)."""
        argv = h.bench_load_argv(self.inst, self.inst.muni, ["--warmup", "0"] + args)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        seen = set()
        while p.poll() is None:
            policies, io = self.io_policies()
            seen |= set().union(*io.values())
            self.assertEqual(policies["esthub"], {os.SCHED_OTHER})
            time.sleep(0.05)
        out, err = p.communicate()
        self.assertEqual(p.returncode, 0, "bench-load: %s %s" % (out, err))
        self.assertIn(" lost=0 ", out)
        return seen

    def test_adapter_pushes_and_feed_reads_back_unchanged(self):
        P = h.pb()
        reps = [h.report(), h.report(category=P.CATEGORY_VANDALISM, subcategory="graffiti", severity=0,
                                     people_count=0, position=(58.5668, 16.1875)),
                h.report(area="", position=(58.5832, 16.2371), place="Navestad torg")]
        f = self.inst.write_jsonl(reps)
        r = self.inst.run_adapter(self.inst.muni, [f])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = h.parse_adapter_lines(r.stdout)
        self.assertEqual([l[1] for l in lines], [1, 2, 3], "RECORD is the line of the input file")
        self.assertTrue(all(l[0].endswith(".jsonl") for l in lines))
        self.assertEqual([(l[2], l[3]) for l in lines], [h.report_key(x) for x in reps])
        self.assertEqual([l[4] for l in lines], ["accepted"] * 3)
        seqs = [int(l[5]) for l in lines]
        self.assertEqual(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2], "one batch, consecutive seqs")

        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        by_seq = {e.seq: e for e in log}
        for rep, seq in zip(reps, seqs):
            e = by_seq[seq]
            self.assertEqual(e.WhichOneof("body"), "report")
            self.assertEqual(e.org, "municipality", "org comes from the certificate")
            got = P.Report()
            got.CopyFrom(e.report)
            want = P.Report()
            want.CopyFrom(rep)
            if not want.area:
                want.area = "navestad"  # assigned from the position
            self.assertEqual(got, want, "the stored report is what was sent")
            self.assertEqual(e.topic, want.area + "/reports")
            self.assertEqual(len(e.hash), 32, "each entry carries its SHA-256 chain hash")
            self.assertGreater(e.logged_at, h.now() - 600)

    def test_raw_client_gets_one_ack_per_envelope_with_request_id_echoed(self):
        P = h.pb()
        c = self.raw()
        reps = [h.report() for _ in range(5)]
        ack = c.request(reps, request_id=987654321012)
        self.assertEqual(ack.request_id, 987654321012)
        self.assertAccepted(ack, 5)
        self.assertEqual([(x.source_id, x.revision) for x in ack.results], [h.report_key(x) for x in reps],
                         "one Result per report, in order")
        seqs = [x.seq for x in ack.results]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 5)))
        # A second envelope continues the log without a gap.
        ack2 = c.request([h.report()], request_id=2)
        self.assertAccepted(ack2, 1)
        self.assertEqual(ack2.results[0].seq, seqs[-1] + 1)
        self.assertEqual(ack2.results[0].status, P.STATUS_ACCEPTED)

    def test_every_envelope_answered_after_a_pause_with_thousands_in_flight(self):
        """A sender with 3,000 envelopes in flight while the hub is paused gets all 3,000 acks when
        it runs again, though it reads none until the hub has taken them all: libzmq's default queue
        of 1,000 messages a peer dropped the rest silently (270 acks of a paced benchmark run)."""
        n = 3000
        # Sends never block; the acks back up into the hub at once (a one-message queue and a
        # small TCP window here), as they do for a sender busy with other work.
        c = self.raw(opts={zmq.SNDHWM: 0, zmq.RCVHWM: 1, zmq.RCVBUF: 4096})
        self.inst.hub.proc.signal(signal.SIGSTOP)
        try:
            for i in range(n):
                c.send(h.envelope([h.report("pause-%d" % i)], request_id=i + 1))
        finally:
            self.inst.hub.proc.signal(signal.SIGCONT)
        # Every report is stored before a single ack is read...
        h.wait_until(lambda: sum(t.endswith("/reports") for _, t in self.inst.store_rows()) >= n, 60,
                     interval_s=0.5, what="all 3,000 reports stored")
        # ...and then every ack is there to read, each once.
        got = set()
        while len(got) < n:
            a = c.recv_ack(timeout_s=5)
            self.assertIsNotNone(a, "acks for %d of %d envelopes; the rest were dropped" % (len(got), n))
            self.assertAccepted(a, 1)
            self.assertNotIn(a.request_id, got)
            got.add(a.request_id)
        self.assertEqual(got, set(range(1, n + 1)))

    def test_senders_in_flight_get_their_seqs_and_the_feed_the_stored_entries(self):
        """Four senders keeping 50 envelopes each in flight, as the benchmark's do. With a commit
        thread the hub answers and publishes one batch while the next one commits (without, one
        after the other): every ack must carry the seq its report was stored at, and the feed
        (filled from the committed batch) must serve exactly the entries the store holds. Every
        other report is revision 1 of the one before, which the picture store confirms against
        the log's index (while the next batch commits, with a commit thread)."""
        import sqlite3
        P = h.pb()
        senders, n, window = 4, 500, 50
        clients = [self.raw(self.inst.muni) for _ in range(senders)]
        sent = [0] * senders
        seq_of = {}

        def send_next(k):
            sent[k] += 1
            i = sent[k]
            r = h.report("flight-%d-%d" % (k, (i + 1) // 2), revision=1 - i % 2)
            clients[k].send(h.envelope([r], request_id=i))

        for k in range(senders):
            for _ in range(window):
                send_next(k)
        poller = zmq.Poller()
        for c in clients:
            poller.register(c.sock, zmq.POLLIN)
        deadline = time.monotonic() + 60 * h.SLOW
        while len(seq_of) < senders * n and time.monotonic() < deadline:
            for sock, _ in poller.poll(1000):
                k = next(i for i, c in enumerate(clients) if c.sock is sock)
                a = clients[k].recv_ack(timeout_s=1)
                self.assertAccepted(a, 1)
                seq_of[(k, a.request_id)] = a.results[0].seq
                if sent[k] < n:
                    send_next(k)
        self.assertEqual(len(seq_of), senders * n)
        self.assertEqual(len(set(seq_of.values())), senders * n, "one seq a report")
        log = self.inst.read_log()
        self.assertLogWellFormed(log)
        fed = {e.seq: e for e in log}
        self.assertEqual({(e.report.source_id, e.report.revision): e.seq for e in log
                          if e.WhichOneof("body") == "report"},
                         {("flight-%d-%d" % (k, (i + 1) // 2), 1 - i % 2): seq for (k, i), seq in seq_of.items()},
                         "each report where its ack said")
        db = sqlite3.connect("file:%s/data/log.db?mode=ro" % self.inst.dir, uri=True)
        try:
            rows = db.execute("SELECT seq, body, hash FROM entries WHERE seq BETWEEN ? AND ?",
                              (min(seq_of.values()), max(seq_of.values()))).fetchall()
        finally:
            db.close()
        self.assertEqual(len(rows), senders * n)
        for seq, body, chain in rows:
            stored = P.LogEntry()
            stored.ParseFromString(body)
            stored.hash = chain
            self.assertEqual(fed[seq], stored, "seq %d: the feed served other bytes than stored" % seq)

    def test_org_is_the_certificates_never_the_messages(self):
        # The same source_id from two organisations is two different reports.
        a = self.raw(self.inst.muni).request([h.report("same-id-1")])
        b = self.raw(self.inst.police).request([h.report("same-id-1")])
        self.assertAccepted(a, 1)
        self.assertAccepted(b, 1)
        self.assertNotEqual(a.results[0].seq, b.results[0].seq)
        log = {e.seq: e for e in self.inst.read_log()}
        self.assertEqual(log[a.results[0].seq].org, "municipality")
        self.assertEqual(log[b.results[0].seq].org, "police")

    def test_police_key_cannot_write_as_the_municipality(self):
        """Nothing in a message can make it another organisation's: the JSON form has no org to
        give (the adapter refuses the line by name), a raw envelope's extra fields change nothing,
        and a "correction" of the municipality's report by the police is the police's own report."""
        P = h.pb()
        orig = self.raw(self.inst.muni).request([h.report("kommun-17", description="Klotter.")])
        self.assertAccepted(orig, 1)
        line = '{"sourceId":"kommun-17","revision":1,"org":"municipality","category":"CATEGORY_VANDALISM",' \
               '"area":"hageby","observedAt":"%d"}' % (h.now() - 60)
        r = self.inst.run_adapter(self.inst.police, [self.inst.write_jsonl([line])])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("rejected unknown field \"org\"", r.stdout)
        # A raw Report with an unknown field 99 = "municipality" appended.
        rep = h.report("kommun-17", revision=1, description="Rättelse.")
        blob = rep.SerializeToString() + h.field_bytes(99, b"municipality")
        ack = self.raw(self.inst.police).request_bytes(h.envelope_bytes([blob], request_id=7), 7)
        self.assertEqual([x.status for x in ack.results], [P.STATUS_ACCEPTED], ack)
        log = {e.seq: e for e in self.inst.read_log()}
        self.assertEqual(log[ack.results[0].seq].org, "police")
        muni = log[orig.results[0].seq]
        self.assertEqual((muni.org, muni.report.revision, muni.report.description),
                         ("municipality", 0, "Klotter."))
        self.assertEqual([e.seq for e in log.values() if e.org == "municipality"],
                         [orig.results[0].seq], "the municipality's reports are untouched")

    def test_area_from_position(self):
        areas = h.load_areas()
        # One point well inside each area, and one in the sea off Norrköping.
        points = {"city": (58.592, 16.185), "marielund": (58.607, 16.145), "hageby": (58.566, 16.187),
                  "navestad": (58.583, 16.237), "klockaretorpet": (58.571, 16.142), "outside": (58.62, 16.30)}
        reps = []
        for area, (lat, lon) in points.items():
            self.assertEqual(h.locate(areas, lat, lon), area, "test point for %s" % area)
            reps.append(h.report(area="", position=(lat, lon)))
        ack = self.raw().request(reps)
        self.assertAccepted(ack, len(reps))
        log = {e.seq: e for e in self.inst.read_log()}
        for area, res in zip(points, ack.results):
            e = log[res.seq]
            self.assertEqual(e.report.area, area)
            self.assertEqual(e.topic, area + "/reports")

    def test_adapter_json_output_is_results(self):
        P = h.pb()
        reps = [h.report(), h.report(category=None)]
        f = self.inst.write_jsonl(reps)
        r = self.inst.run_adapter(self.inst.muni, [f], json_out=True)
        self.assertEqual(r.returncode, 1, "a rejected record makes est-adapter exit 1: " + r.stderr)
        results = []
        for line in r.stdout.splitlines():
            res = P.Result()
            h.json_format().Parse(line, res)
            results.append(res)
        self.assertEqual([x.status for x in results], [P.STATUS_ACCEPTED, P.STATUS_REJECTED])
        self.assertEqual(results[0].source_id, reps[0].source_id)
        self.assertTrue(results[1].error.startswith("category:"), results[1].error)
        # The mapping: enums by name, 64-bit integers as strings.
        first = json.loads(r.stdout.splitlines()[0])
        self.assertEqual(first["status"], "STATUS_ACCEPTED")
        self.assertIsInstance(first["seq"], str)

    def test_adapter_reports_a_record_it_cannot_read_and_delivers_the_rest(self):
        good = h.report()
        f = self.inst.write_jsonl([h.report_json(good), '{"sourceId": "broken", "category": ', '{"nosuchField": 1}'])
        r = self.inst.run_adapter(self.inst.muni, [f])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = sorted(h.parse_adapter_lines(r.stdout), key=lambda l: l[1])
        self.assertEqual([(l[1], l[4]) for l in lines], [(1, "accepted"), (2, "rejected"), (3, "rejected")])
        self.assertEqual(lines[0][2], good.source_id)
        self.assertIn("nosuchField", lines[2][5], "an unknown field is named")
        log = self.inst.read_log()
        self.assertEqual(len(self.reports_in_log(log)), 1)


class AcceptanceCommitThreadOn(Acceptance):
    """The same with limits.commit_thread = on (auto's choice from 3 CPUs): a batch of more than
    64 reports commits on the committer's thread while the next one is received, and the landed
    batch is answered and published while the next one commits."""

    commit_thread = "on"


class AcceptanceCommitThreadOff(Acceptance):
    """The same with limits.commit_thread = off (auto's choice on 2 CPUs): every batch commits on
    the thread that received it and is answered before the next one is received."""

    commit_thread = "off"


def cpu_cgroup_parent():
    """Where this process may make a cgroup whose CPU quota it sets: (directory, "v1" or "v2"),
    or None. v1: the cpu controller's hierarchy at this process's cgroup; v2: this process's
    cgroup when its subtree has the cpu controller."""
    paths = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            ident, ctrls, path = line.rstrip("\n").split(":", 2)
            if ident == "0" and ctrls == "":
                paths["v2"] = path
            elif "cpu" in ctrls.split(","):
                paths["v1"] = path
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields, rest = head.split(), tail.split()
            if len(fields) < 5 or len(rest) < 3 or fields[3] != "/":
                continue
            point = fields[4].replace("\\040", " ")
            if rest[0] == "cgroup" and "cpu" in rest[2].split(",") and "v1" in paths:
                d = point + paths["v1"]
                if os.access(d, os.W_OK) and os.path.exists(os.path.join(d, "cpu.cfs_quota_us")):
                    return d, "v1"
            if rest[0] == "cgroup2" and "v2" in paths:
                d = point + paths["v2"]
                try:
                    with open(os.path.join(d, "cgroup.subtree_control")) as c:
                        if "cpu" in c.read().split() and os.access(d, os.W_OK):
                            return d, "v2"
                except OSError:
                    pass
    return None


class CpuQuota(h.HubTestCase):
    """limits.commit_thread = auto counts a cgroup CPU quota as docker --cpus and systemd's
    CPUQuota= set it: the hub runs in a real cgroup of its own with a quota of one CPU (where
    this machine lets the test make one: as root, with cgroup v1's cpu controller or a v2
    subtree with it) and says so at start. The unit tests (test_cpus) read the files of other
    layouts."""

    start_hub = False

    def test_auto_counts_a_cgroup_cpu_quota(self):
        found = cpu_cgroup_parent()
        if found is None:
            self.skipTest("no cgroup with the cpu controller that this process may write")
        parent, version = found
        cg = os.path.join(parent, "esthub-test-%d" % os.getpid())
        try:
            os.mkdir(cg)
        except OSError as e:
            self.skipTest("cannot make a cgroup in %s: %s" % (parent, e))
        self.addCleanup(self._remove, cg)
        if version == "v1":
            with open(os.path.join(cg, "cpu.cfs_period_us"), "w") as f:
                f.write("100000")
            with open(os.path.join(cg, "cpu.cfs_quota_us"), "w") as f:
                f.write("100000")
        else:
            with open(os.path.join(cg, "cpu.max"), "w") as f:
                f.write("100000 100000")
        # The shell puts itself into the cgroup, then becomes the hub (same pid).
        self.inst.hub_wrap = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg]
        self.inst.start()
        cpus = len(os.sched_getaffinity(0))
        why = ": a cgroup CPU quota of 1" if cpus > 1 else ""
        want = ("esthub: ingest: every batch commits on the thread that received it "
                "(1 CPU%s, limits.commit_thread = auto)" % why)
        self.assertIn(want, self.inst.hub.proc.stderr_text())
        with open(os.path.join(cg, "cgroup.procs")) as f:
            self.assertEqual(f.read().split(), [str(self.inst.hub.proc.p.pid)])

    def _remove(self, cg):
        """The cgroup goes once the hub has left it (the harness's own cleanup runs after)."""
        if self.inst.hub is not None and self.inst.hub.alive():
            self.inst.stop()
        for _ in range(50):
            try:
                os.rmdir(cg)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        os.rmdir(cg)


class SchedulingPolicyOfItsOwn(h.HubTestCase):
    """A hub an administrator started in another scheduling policy (here `chrt --batch`) keeps
    it for ZeroMQ's I/O threads too, and says so."""

    start_hub = False

    def test_io_threads_keep_a_policy_the_hub_was_given(self):
        self.inst.hub_wrap = ["chrt", "--batch", "0"]
        self.inst.start()
        self.assertIn("esthub: ZeroMQ's I/O threads keep the hub's scheduling policy "
                      "(it runs in SCHED_BATCH)", self.inst.hub.proc.stderr_text())
        policies = thread_policies(self.inst.hub.proc.p.pid)
        self.assertTrue(any(name.startswith("ZMQbg/IO/") for name, _ in policies), policies)
        for name, policy in policies:
            self.assertEqual(policy, os.SCHED_BATCH, name)


if __name__ == "__main__":
    unittest.main()
