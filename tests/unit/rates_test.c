/* rates_test.c: learned API rates kept in StateDir/queue/.rates: read
 * back, merged, expired, damaged lines skipped; a seeded client starts at
 * 70% of the learned rate. */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/aws/client.h"
#include "common/aws/service.h"
#include "common/journal.h"
#include "common/xmalloc.h"
#include "controller/rates.h"
#include "tap.h"

#define FILE_NAME "queue/.rates"

int main(void)
{
	char dir[] = "/tmp/rates_test.XXXXXX", err[512];
	struct aws_client_options opts = { "us-east-1", 16, 0, 3, 10 };
	struct rate_entry e[8];
	struct aws_rate_hint h[8];
	struct aws_client *aws;
	char *text;
	int n;

	if (!mkdtemp(dir))
		return 1;
	tap_is_int(rates_load(dir, e, 8, 100000, err, sizeof(err)), 0,
		   "no file: nothing learned");
	tap_write_file(dir, FILE_NAME, "opsworks 20.000 99000\n"
		 "ssm 5.5 90000\n"
		 "ec2 7 1\n"
		 "bogus 3 99000\n"
		 "opsworks nan 99000\n"
		 "sts -1 99000\n"
		 "secretsmanager 2 99000 extra\n"
		 "\n"
		 "ec2 1e9 99000");
	n = rates_load(dir, e, 8, 100000, err, sizeof(err));
	tap_is_int(n, 2, "two good, fresh entries");
	tap_ok(n == 2 && e[0].service == &aws_opsworks && e[0].rate == 20 &&
		       e[1].service == &aws_ssm && e[1].rate == 5.5,
	       "read as written");
	tap_ok(strstr(err, "5 damaged line(s) skipped") != NULL,
	       "damaged lines skipped and said (%s)", err);
	n = rates_load(dir, e, 8, 90000 + RATES_MAX_AGE + 1, err, sizeof(err));
	tap_is_int(n, 1, "an entry older than RATES_MAX_AGE is not used");

	aws = aws_client_new(&opts, err, sizeof(err));
	tap_ok(aws != NULL, "client");
	n = rates_load(dir, e, 8, 100000, err, sizeof(err));
	rates_seed(aws, e, (size_t)n);
	tap_is_int((long)aws_client_rate_hints(aws, h, 8), 2, "seeded services are known");
	tap_ok(h[0].throttled_at == 0 && h[0].peak == 0,
	       "seeding is not learning: nothing to save");
	tap_is_int(rates_save(dir, aws, 100000, err, sizeof(err)), 0, "save");
	text = tap_read_file(dir, FILE_NAME);
	tap_ok(strncmp(text, "opsworks 20.000 99000\n", 22) == 0,
	       "a run that learned nothing leaves the file alone");
	free(text);
	aws_client_free(aws);

	/* MaxRequestRate set: nothing adaptive, nothing seeded or saved. */
	opts.max_request_rate = 10;
	aws = aws_client_new(&opts, err, sizeof(err));
	rates_seed(aws, e, 2);
	tap_is_int((long)aws_client_rate_hints(aws, h, 8), 0,
		   "a fixed MaxRequestRate is never seeded");
	aws_client_free(aws);

	{
		struct rate_entry m[2] = { { &aws_opsworks, 20, 99000 } };
		struct aws_rate_hint hint[3] = {
			{ &aws_opsworks, 0, 15 },	/* slower, unthrottled */
			{ &aws_ssm, 8, 12 },		/* throttled at 8/s */
			{ &aws_ec2, 3, 4 },		/* no room left */
		};
		bool changed;
		size_t k;

		k = rates_merge(m, 1, 2, hint, 1, 100000, &changed);
		tap_ok(k == 1 && !changed && m[0].rate == 20,
		       "a slower unthrottled run keeps the learned rate");
		k = rates_merge(m, 1, 2, hint, 3, 100000, &changed);
		tap_ok(k == 2 && changed && m[1].service == &aws_ssm && m[1].rate == 8 &&
			       m[1].when == 100000, "a throttle is learned, with its time");
		hint[0].throttled_at = 25;
		k = rates_merge(m, k, 2, hint, 1, 100001, &changed);
		tap_ok(k == 2 && changed && m[0].rate == 25, "a new throttle replaces the rate");
		hint[0].throttled_at = 0;
		hint[0].peak = 40;
		k = rates_merge(m, k, 2, hint, 1, 100002, &changed);
		tap_ok(k == 1 && changed && m[0].service == &aws_ssm,
		       "sending faster without a throttle forgets it");
	}
	journal_close_all();
	tap_remove_tree(dir);
	return tap_done();
}
