/* SPDX-License-Identifier: Apache-2.0 */
/* access: the need-to-know rules (see the table in access.h). */
#include "access.h"

#include <stdio.h>
#include <string.h>

#include "est.pb-c.h"

bool
access_may_send(const struct cert_info *who, char *why, size_t whylen)
{
	if (who->role != ROLE_ADAPTER && who->role != ROLE_ADMIN) {
		snprintf(why, whylen, "role %s may not send reports", ids_role_name(who->role));
		return false;
	}
	if (who->org[0] == '\0') {
		snprintf(why, whylen, "certificate %s has no org, so it may not send reports",
		         who->name);
		return false;
	}
	return true;
}

bool
access_may_subscribe(const struct cert_info *who, char *why, size_t whylen)
{
	if (who->role == ROLE_SUBSCRIBER || who->role == ROLE_ADMIN)
		return true;
	snprintf(why, whylen, "role %s may not follow feeds", ids_role_name(who->role));
	return false;
}

/* Whether one of who's groups lies in area (hageby/social lies in hageby). */
static bool
in_groups(const struct cert_info *who, const char *area, size_t area_len)
{
	for (size_t i = 0; i < who->n_groups; i++) {
		const char *g = who->groups[i];
		if (strncmp(g, area, area_len) == 0 && (g[area_len] == '\0' || g[area_len] == '/'))
			return true;
	}
	return false;
}

bool
access_may_read(const struct cert_info *who, const char *topic)
{
	if (who->role == ROLE_ADMIN)
		return true;
	if (who->role != ROLE_SUBSCRIBER)
		return false;
	const char *slash = strchr(topic, '/');
	if (slash == NULL)
		return false;
	const char *kind = slash + 1;
	size_t area_len = (size_t)(slash - topic);
	if (strncmp(topic, "all", area_len) == 0 && area_len == 3)
		return strcmp(kind, "pictures") == 0 || strcmp(kind, "checkpoints") == 0;
	if (strcmp(kind, "audit") == 0 || strcmp(kind, "checkpoints") == 0)
		return false;
	return in_groups(who, topic, area_len);
}

bool
access_may_read_entry(const struct cert_info *who, const char *topic, int group)
{
	if (!access_may_read(who, topic))
		return false;
	if (who->role == ROLE_ADMIN || group != EST__V1__WORKING_GROUP__GROUP_SOCIAL)
		return true;
	/* A social group's measure: AREA/social or the bare AREA of its area. */
	const char *slash = strchr(topic, '/');
	size_t area_len = (size_t)(slash - topic);
	for (size_t i = 0; i < who->n_groups; i++) {
		const char *g = who->groups[i];
		if (strncmp(g, topic, area_len) == 0 &&
		    (g[area_len] == '\0' || strcmp(g + area_len, "/social") == 0))
			return true;
	}
	return false;
}
