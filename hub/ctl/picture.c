/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picture: `estctl picture compile [--area A] [--week YYYY-Www]`. The
 * running hub compiles the pictures, appends them to the log and publishes
 * them on AREA/pictures; this command only asks and says what it did.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "est.pb-c.h"
#include "wire/diag.h"

int
ctl_picture_compile(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"area", required_argument, NULL, 'a'},
	    {"week", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	Est__V1__PictureRequest pr;
	est__v1__picture_request__init(&pr);
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'a')
			pr.area = optarg;
		else if (c == 'w')
			pr.week = optarg;
		else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (ctl_no_more_args(argc, argv, optind))
		return EXIT_INPUT;
	Est__V1__ControlRequest req;
	est__v1__control_request__init(&req);
	req.body_case = EST__V1__CONTROL_REQUEST__BODY_COMPILE_PICTURES;
	req.compile_pictures = &pr;
	Est__V1__ControlReply *reply = NULL;
	int rc = ctl_ask_hub(dir, &req, CTL_COMPILE_TIMEOUT_MS, "", &reply);
	if (rc != 0)
		return rc;
	if (reply->ok)
		printf("%s\n", reply->message);
	else
		diag_say("picture compile: %s", reply->message);
	rc = reply->ok ? EXIT_OK : EXIT_INPUT;
	est__v1__control_reply__free_unpacked(reply, NULL);
	return rc;
}
