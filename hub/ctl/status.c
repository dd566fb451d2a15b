/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status: estctl status. The store's figures come from the file (they are
 * there with the hub down too); the hub's uptime and the clients it heard
 * from lately come from the running hub over the control channel (control.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "wire/diag.h"
#include "wire/timefmt.h"

/* "3d 04h 05m", "2h 05m", "5m 10s", "42s". */
static void
uptime_text(int64_t s, char *out, size_t outlen)
{
	if (s < 0)
		s = 0;
	long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
	if (d > 0)
		snprintf(out, outlen, "%lldd %02lldh %02lldm", d, h, m);
	else if (h > 0)
		snprintf(out, outlen, "%lldh %02lldm", h, m);
	else if (m > 0)
		snprintf(out, outlen, "%lldm %02llds", m, sec);
	else
		snprintf(out, outlen, "%llds", sec);
}

/* Room for one client's line: four ids, when it was heard, its next seq. */
#define CLIENT_LINE_MAX 512

static const char *
text_or_dash(const char *s)
{
	return (s && s[0]) ? s : "-";
}

/* One client's line, without the trailing blanks of its last column. */
static void
client_line(const Est__V1__ClientInfo *c, char *out, size_t outlen)
{
	char quiet[32], heard[48];
	uptime_text((int64_t)(c->quiet_ms / 1000), quiet, sizeof quiet);
	snprintf(heard, sizeof heard, "heard %s ago", quiet);
	int n = snprintf(out, outlen, "  %-20s %-7s %-10s %-14s %-18s", text_or_dash(c->name),
	                 text_or_dash(c->kind), text_or_dash(c->role), text_or_dash(c->org), heard);
	if (n > 0 && (size_t)n < outlen && c->next_seq > 0)
		snprintf(out + n, outlen - (size_t)n, " next seq %llu",
		         (unsigned long long)c->next_seq);
	size_t len = strlen(out);
	while (len > 0 && out[len - 1] == ' ')
		out[--len] = '\0';
}

static void
print_hub(const Est__V1__ControlReply *r)
{
	char since[32], up[32];
	timefmt_local(r->started_at, since, sizeof since);
	uptime_text(timefmt_now() - r->started_at, up, sizeof up);
	printf("hub: running since %s (up %s), head seq %llu\n", since, up,
	       (unsigned long long)r->head_seq);
	/*
	 * A ROUTER does not see a peer leave: a sender is listed for a minute
	 * after its last message, a feed until it is forgotten (silent for
	 * subscriber_timeout_seconds). When each was last heard tells which.
	 * Connections whose lines are the same (one client's feeds run one
	 * after another, say) are shown once, with how many there are.
	 */
	printf("clients heard from lately: %zu\n", r->n_clients);
	char(*lines)[CLIENT_LINE_MAX] = calloc(r->n_clients ? r->n_clients : 1, sizeof *lines);
	if (lines == NULL) {
		diag_say("out of memory listing %zu clients", r->n_clients);
		return;
	}
	for (size_t i = 0; i < r->n_clients; i++)
		client_line(r->clients[i], lines[i], sizeof lines[i]);
	for (size_t i = 0; i < r->n_clients; i++) {
		size_t same = 1, j;
		for (j = 0; j < i && strcmp(lines[j], lines[i]) != 0; j++)
			;
		if (j < i)
			continue; /* shown with the first of its kind */
		for (j = i + 1; j < r->n_clients; j++)
			same += strcmp(lines[j], lines[i]) == 0;
		if (same > 1)
			printf("%s (%zu connections)\n", lines[i], same);
		else
			printf("%s\n", lines[i]);
	}
	free(lines);
}

/* Asks the running hub; 0 printed, EXIT_ENV when it does not answer (reported). */
static int
hub_status(const char *dir)
{
	Est__V1__ControlRequest req = EST__V1__CONTROL_REQUEST__INIT;
	Est__V1__ControlReply *reply = NULL;
	char err[512];
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_STATUS;
	req.status = 1;
	int rc = control_call(dir, &req, CTL_CONTROL_TIMEOUT_MS, &reply, err, sizeof err);
	if (rc == 1) {
		printf("hub: not running\n");
		diag_say("hub not running (%s)", err);
		return EXIT_ENV;
	}
	if (rc != 0) {
		diag_say("control channel: %s", err);
		return EXIT_ENV;
	}
	if (reply->ok)
		print_hub(reply);
	else
		diag_say("hub: %s", reply->message ? reply->message : "status refused");
	rc = reply->ok ? EXIT_OK : EXIT_ENV;
	est__v1__control_reply__free_unpacked(reply, NULL);
	return rc;
}

int
ctl_status(const char *dir, int argc, char **argv)
{
	if (ctl_no_more_args(argc, argv, 1))
		return EXIT_INPUT;
	int store_rc = ctl_store_figures(dir, stdout);
	fflush(stdout);
	int hub_rc = hub_status(dir);
	return store_rc != 0 ? store_rc : hub_rc;
}
