/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag: diagnostics for people (stderr), never the shared log. Each program
 * calls diag_init(argv0) once; lines read "PROGRAM: message".
 */
#ifndef ESTHUB_WIRE_DIAG_H
#define ESTHUB_WIRE_DIAG_H

void diag_init(const char *program);
const char *diag_program(void);
/* One line on stderr: "program: message". */
void diag_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like diag_say, only when verbose output was asked for (diag_set_verbose). */
void diag_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_set_verbose(int on);

/* Exit codes of every program (contract). */
enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_ENV = 2 };

#endif
