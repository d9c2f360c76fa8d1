/* gwctl addr: checks IPREF addresses and prints them in canonical form; needs no daemon. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "commands.h"

/* Echoes a rejected argument on one line: control bytes are shown as \xNN escapes. */
static void print_escaped(FILE *out, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

int cmd_addr(int argc, char **argv)
{
	static const struct option options[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	enum ipr_ref_style style = IPR_REF_DECIMAL;
	int status = GWCTL_EXIT_OK;
	int opt;

	while ((opt = getopt_long(argc, argv, "x", options, NULL)) != -1) {
		if (opt != 'x')
			return gwctl_usage_error("addr");
		style = IPR_REF_HEX;
	}
	if (optind == argc)
		return gwctl_usage_error("addr");

	for (int i = optind; i < argc; i++) {
		struct ipr_addr addr;
		struct ipr_err err = { 0 };
		char text[IPR_ADDR_TEXT_MAX];

		if (ipr_addr_parse(argv[i], strlen(argv[i]), &addr, &err) < 0) {
			fputs("gwctl: '", stderr);
			print_escaped(stderr, argv[i]);
			if (err.column)
				fprintf(stderr, "': column %zu: %s\n", err.column, err.reason);
			else
				fprintf(stderr, "': %s\n", err.reason);
			status = GWCTL_EXIT_FAILED;
			continue;
		}
		ipr_addr_format(&addr, style, text);
		printf("%s\n", text);
	}
	return status;
}
