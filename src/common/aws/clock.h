/* clock.h: monotonic time for timeouts, wall time for signing. */
#ifndef SLURM_IDENTITY_CLOCK_H
#define SLURM_IDENTITY_CLOCK_H

double clock_monotonic(void);
double clock_wall(void);
/* Sleep this long (interrupted sleeps resume); nothing for <= 0. */
void clock_sleep(double seconds);
/* Parse "2026-11-24T06:20:00Z" (or with fraction) to a Unix time; -1 if
 * malformed. */
long long clock_parse_iso8601(const char *s);
/* Parse an HTTP Date header ("Tue, 24 Nov 2026 06:20:00 GMT"); -1 if
 * malformed. */
long long clock_parse_http_date(const char *s);

#endif
