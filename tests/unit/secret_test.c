/* secret_test.c: one-time passwords use the 64 symbols their comment
 * promises, each as often as the others (no modulo bias), and none that a
 * shell, a quoting tool or JSON would treat specially. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/secret.h"
#include "tap.h"

#define PASSWORDS 20000
#define LENGTH 32

int main(void)
{
	static const char forbidden[] = "\"'`\\$&|;<>()[]{}*?!#~ \t\n";
	unsigned long count[256] = { 0 }, lo = ~0ul, hi = 0;
	int symbols = 0, bad = 0, ok_all = 1;
	size_t i, j;

	for (i = 0; i < PASSWORDS; i++) {
		struct secret *s = secret_random_password(LENGTH);
		const unsigned char *p;

		if (!s || secret_len(s) != LENGTH) {
			ok_all = 0;
			secret_free(s);
			break;
		}
		p = secret_bytes(s);
		for (j = 0; j < LENGTH; j++) {
			count[p[j]]++;
			if (p[j] < 0x21 || p[j] > 0x7e || strchr(forbidden, p[j]))
				bad++;
		}
		secret_free(s);
	}
	tap_ok(ok_all, "%d passwords of %d characters", PASSWORDS, LENGTH);
	tap_is_int(bad, 0, "only printable symbols, none a shell or JSON treats specially");
	for (i = 0; i < 256; i++) {
		if (!count[i])
			continue;
		symbols++;
		if (count[i] < lo)
			lo = count[i];
		if (count[i] > hi)
			hi = count[i];
	}
	tap_is_int(symbols, 64, "64 symbols, 6 bits each");
	/* 10,000 of each expected, sd 100: a symbol drawn 5/256 of the time
	 * instead of 4/256 (61 symbols by modulo) is 25% more frequent. */
	if (!tap_ok(lo && (double)hi / (double)lo < 1.1,
		    "every symbol as frequent as the others"))
		printf("#   least %lu, most %lu\n", lo, hi);
	return tap_done();
}
