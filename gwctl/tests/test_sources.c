/* Unit tests of the sources loader: matching, every error with its place, conflicts, digests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sources.h"

/*
 * The build passes the folders of the test data and of the example zones; without them they
 * are found next to this file (a build that names sources by absolute path).
 */
#if !defined(SOURCES_TEST_DATA) || !defined(SOURCES_ZONES_DIR)
static const char *test_dir(const char *below)
{
	static char dir[2][4096];
	static int which;
	const char *slash = strrchr(__FILE__, '/');

	which = !which;
	snprintf(dir[which], sizeof(dir[which]), "%.*s/%s", slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".", below);
	return dir[which];
}
#endif
#ifndef SOURCES_TEST_DATA
#define SOURCES_TEST_DATA test_dir("data")
#endif
#ifndef SOURCES_ZONES_DIR
#define SOURCES_ZONES_DIR test_dir("../../zones")
#endif

/* Two header lines: records below start at line 3. */
#define PUB_HEAD "$ORIGIN example.com.\n@ SOA ns hostmaster 1 2 3 4 5\n"
#define INT_HEAD "$ORIGIN internal.\n@ SOA ns hostmaster 1 2 3 4 5\n"

static void context(const char *text, struct ipr_context *out)
{
	struct ipr_err err;

	assert_int_equal(ipr_context_parse(text, strlen(text), out, &err), 0);
}

/* Gateway 198.51.100.1, 2001:db8:100::1 and gw.example.com; the daemon's default ranges. */
static void config(struct sources_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	context("198.51.100.1", &cfg->gateways[0]);
	context("2001:db8:100::1", &cfg->gateways[1]);
	context("gw.example.com", &cfg->gateways[2]);
	cfg->gateway_count = 3;
	cfg->dynamic_min = ipr_ref_from_u64(UINT64_C(1) << 32);
	cfg->dynamic_max = ipr_ref_from_u64((UINT64_C(1) << 56) - 1);
	cfg->encoded[0] = (struct sources_range){ true, { AF_INET, { 10, 240 }, 12 } };
	cfg->encoded[1] =
		(struct sources_range){ true, { AF_INET6, { 0xfd, 0xee, 0xee, 0xee }, 64 } };
}

static int zone(const struct sources_config *cfg, const char *pub, const char *internal,
		struct source_set *set)
{
	return sources_load_zone_text(cfg, "pub.zone", pub, strlen(pub), "int.zone", internal,
				      strlen(internal), set);
}

static int hosts(const struct sources_config *cfg, const char *text, struct source_set *set)
{
	return sources_load_hosts_text(cfg, "hosts", text, strlen(text), set);
}

static const struct ipr_mapping *find(const struct source_set *set, uint64_t ref)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->mappings[i].ref.hi == 0 && set->mappings[i].ref.lo == ref)
			return &set->mappings[i];
	return NULL;
}

static void dump_errors(const struct source_set *set)
{
	char buf[5000];

	for (size_t i = 0; i < set->error_count; i++) {
		source_error_format(&set->errors[i], buf, sizeof(buf));
		print_message("  %s\n", buf);
	}
}

/* An error at file:line whose reason contains needle. */
static void expect_error(const struct source_set *set, const char *file, unsigned line,
			 const char *needle)
{
	for (size_t i = 0; i < set->error_count; i++) {
		const struct source_error *e = &set->errors[i];
		size_t n = strlen(e->file), f = strlen(file);

		/* file may name the end of the path */
		if (e->line == line && n >= f && strcmp(e->file + n - f, file) == 0 &&
		    strstr(e->reason, needle))
			return;
	}
	dump_errors(set);
	fail_msg("no error at %s:%u with '%s'", file, line, needle);
}

static void expect_no_errors(const struct source_set *set)
{
	if (set->error_count) {
		dump_errors(set);
		fail_msg("%zu unexpected errors", set->error_count);
	}
}

static void expect_address(const struct ipr_mapping *m, const char *text)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(m);
	assert_non_null(inet_ntop(m->family, m->address, buf, sizeof(buf)));
	assert_string_equal(buf, text);
}

static void expect_context(const struct ipr_mapping *m, const char *text)
{
	char buf[IPR_ADDR_TEXT_MAX];

	ipr_context_format(&m->context, buf);
	assert_string_equal(buf, text);
}

static void test_match(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };
	const struct ipr_mapping *m;

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg, PUB_HEAD "www TXT \"AA 198.51.100.1 + 5000\"\n",
			      INT_HEAD "www A 10.1.0.80\n", &set),
			 0);
	expect_no_errors(&set);
	assert_int_equal(set.count, 1);
	m = find(&set, 5000);
	assert_int_equal(m->kind, IPR_MAP_PUBLISHED);
	assert_int_equal(m->family, AF_INET);
	expect_address(m, "10.1.0.80");
	expect_context(m, "198.51.100.1");
	assert_string_equal(m->name, "www.example.com");
	assert_string_equal(m->source, "pub.zone:3");
	assert_int_equal(m->expires, 0);
	assert_int_equal(set.places[0].line, 3);
	assert_string_equal(set.files[set.places[0].file], "pub.zone");
	assert_int_equal(set.zone_digest_count, 1);
	assert_int_equal(sources_check_conflicts(&cfg, &set), 0);
	source_set_free(&set);
}

/* The apex is the relative name "@"; case does not matter; A and AAAA: IPv4 is published. */
static void test_match_names(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      PUB_HEAD "@ TXT \"AA 198.51.100.1 + 1024\"\n"
				       "WWW.Example.COM. TXT \"AA 198.51.100.1 + 1025\"\n"
				       "v6 TXT \"AA 198.51.100.1 + 1026\"\n"
				       "a.b.c TXT \"AA 198.51.100.1 + 1027\"\n",
			      INT_HEAD "@ A 10.1.0.1\n"
				       "www AAAA fd00:1::80\n"
				       "www A 10.1.0.80\n"
				       "v6 AAAA fd00:1::6\n"
				       "A.B.C.Internal. A 10.1.0.3\n",
			      &set),
			 0);
	expect_no_errors(&set);
	assert_int_equal(set.count, 4);
	expect_address(find(&set, 1024), "10.1.0.1");
	assert_string_equal(find(&set, 1024)->name, "example.com");
	expect_address(find(&set, 1025), "10.1.0.80");
	assert_string_equal(find(&set, 1025)->name, "www.example.com");
	expect_address(find(&set, 1026), "fd00:1::6");
	expect_address(find(&set, 1027), "10.1.0.3");
	source_set_free(&set);
}

/* One CNAME is followed within the internal zone; not two, not out of it. */
static void test_cname(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      PUB_HEAD "git TXT \"AA 198.51.100.1 + 7000\"\n"
				       "two TXT \"AA 198.51.100.1 + 7001\"\n"
				       "out TXT \"AA 198.51.100.1 + 7002\"\n"
				       "self TXT \"AA 198.51.100.1 + 7003\"\n",
			      INT_HEAD "git CNAME build\n"
				       "build AAAA fd00:1::42\n"
				       "two CNAME git\n"
				       "out CNAME www.example.net.\n"
				       "self CNAME self\n",
			      &set),
			 -EINVAL);
	assert_int_equal(set.count, 1);
	expect_address(find(&set, 7000), "fd00:1::42");
	expect_error(&set, "pub.zone", 4, "git.internal. is again a CNAME: one CNAME is followed");
	expect_error(&set, "pub.zone", 5, "outside the internal zone");
	expect_error(&set, "pub.zone", 6, "self.internal. is again a CNAME");
	assert_int_equal(set.error_count, 3);
	source_set_free(&set);
}

/* Contexts: IPv4, IPv6 in any spelling, names in any case with or without the dot. */
static void test_contexts(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	/* a name given by the caller in another case, with a trailing dot, is the same */
	snprintf(cfg.gateways[2].name, sizeof(cfg.gateways[2].name), "GW.Example.Com.");
	assert_int_equal(zone(&cfg,
			      PUB_HEAD "a TXT \"AA 198.51.100.1 + 2001\"\n"
				       "b TXT \"AA 2001:DB8:100:0:0:0:0:1 + 2002\"\n"
				       "c TXT \"AA gw.EXAMPLE.com. + 2003\"\n"
				       "d TXT \"AA gw.example.net + 2004\"\n"
				       "e TXT \"AA 198.51.100.2 + 2005\"\n"
				       "f TXT \"AA 2001:db8:100::2 + 2006\"\n",
			      INT_HEAD "a A 10.1.0.1\nb A 10.1.0.2\nc A 10.1.0.3\n", &set),
			 0);
	expect_no_errors(&set);
	assert_int_equal(set.count, 3);
	expect_context(find(&set, 2001), "198.51.100.1");
	expect_context(find(&set, 2002), "2001:db8:100::1");
	expect_context(find(&set, 2003), "gw.example.com");
	source_set_free(&set);
}

/* Other gateways' records are skipped without looking for their hosts; malformed AA are not. */
static void test_other_gateways(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      PUB_HEAD "partner TXT \"AA 203.0.113.7 + 2466\"\n"
				       "low TXT \"AA 203.0.113.7 + 5\"\n"
				       "spf TXT \"v=spf1 -all\"\n"
				       "lower TXT \"aa 192.0.2.1 + 5\"\n"
				       "broken TXT \"AA 203.0.113.7 + \"\n",
			      INT_HEAD, &set),
			 -EINVAL);
	assert_int_equal(set.count, 0);
	expect_error(&set, "pub.zone", 7, "malformed AA record");
	assert_int_equal(set.error_count, 1);
	source_set_free(&set);

	/* with no gateway configured nothing is ours */
	cfg.gateway_count = 0;
	assert_int_equal(
		zone(&cfg, PUB_HEAD "www TXT \"AA 198.51.100.1 + 5000\"\n", INT_HEAD, &set), 0);
	assert_int_equal(set.count, 0);
	source_set_free(&set);
}

/* Multi-string TXT, parentheses over lines, comments, and the line numbers after them. */
static void test_multi_string(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      PUB_HEAD
			      "mail TXT \"AA 198.51.100.1 \" \"+ 5\" \"-1\"\n"
			      "split TXT ( \"AA \" ; a comment with ( and \"\n"
			      "            \"gw.example.com + \"\n"
			      "            \"3000\" )\n"
			      "semi TXT \"AA 198.51.100.1 + 3001\" ; \"AA 198.51.100.1 + 9\"\n"
			      "esc TXT \"AA\\032198.51.100.1 + 3002\"\n"
			      "\n"
			      "; a comment\n"
			      "late TXT \"AA 198.51.100.1 + 3\"\n",
			      INT_HEAD "mail A 10.1.0.25\nsplit A 10.1.0.26\nsemi A 10.1.0.27\n"
				       "esc A 10.1.0.28\n",
			      &set),
			 -EINVAL);
	expect_address(find(&set, 0x50001), "10.1.0.25");
	expect_address(find(&set, 3000), "10.1.0.26");
	assert_string_equal(find(&set, 3000)->source, "pub.zone:4");
	expect_address(find(&set, 3001), "10.1.0.27");
	expect_address(find(&set, 3002), "10.1.0.28");
	assert_int_equal(set.count, 4);
	expect_error(&set, "pub.zone", 11, "reference 3 is reserved");
	assert_int_equal(set.error_count, 1);
	source_set_free(&set);
}

/* $ORIGIN (absolute, relative, @), $TTL, relative names, CRLF, origin from the SOA alone. */
static void test_directives(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      "$TTL 1h\r\n"
			      "example.com. IN SOA ns hostmaster 1 2 3 4 5\r\n"
			      "www 300 IN TXT \"AA 198.51.100.1 + 5000\"\r\n"
			      "$ORIGIN dept\r\n"
			      "web TXT \"AA 198.51.100.1 + 5001\"\r\n"
			      "$origin example.com.\r\n"
			      "@ TXT \"AA 198.51.100.1 + 5002\"\r\n"
			      "$TTL 1w2d\r\n"
			      "$ORIGIN @\r\n"
			      "x.y TXT \"AA 198.51.100.1 + 5003\"\r\n",
			      "$ORIGIN internal.\nwww A 10.1.0.1\n$ORIGIN dept.internal.\n"
			      "web A 10.1.0.2\n@ A 10.1.0.3\n$ORIGIN internal.\n@ A 10.1.0.4\n"
			      "x.y.internal. A 10.1.0.5\n",
			      &set),
			 0);
	expect_no_errors(&set);
	expect_address(find(&set, 5000), "10.1.0.1");
	expect_address(find(&set, 5001), "10.1.0.2");
	assert_string_equal(find(&set, 5001)->name, "web.dept.example.com");
	expect_address(find(&set, 5002), "10.1.0.4");
	expect_address(find(&set, 5003), "10.1.0.5");
	assert_int_equal(set.count, 4);
	source_set_free(&set);
}

/* Errors of zone syntax, each at its line, all of them listed. */
static void test_zone_syntax_errors(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      "  TXT \"AA 198.51.100.1 + 5000\"\n"   /* 1 */
			      "www TXT \"AA 198.51.100.1 + 5000\"\n" /* 2 */
			      "@ A 10.0.0.1\n"			     /* 3 */
			      "$ORIGIN example.com.\n"		     /* 4 */
			      "@ SOA ns hostmaster 1 2 3 4 5\n"	     /* 5 */
			      "@ SOA ns hostmaster 1 2 3 4 5\n"	     /* 6 */
			      "$TTL soon\n"			     /* 7 */
			      "$TTL\n"				     /* 8 */
			      "$ORIGIN a. b.\n"			     /* 9 */
			      "$GENERATE 1-2 x$ A 10.0.0.$\n"	     /* 10 */
			      "x TXT \"open\n"			     /* 11 */
			      "y TXT ) \"AA 198.51.100.1 + 5\"\n"    /* 12 */
			      "z NOSUCHTYPE 1\n"		     /* 13 */
			      "a A 10.0.0.1 10.0.0.2\n"		     /* 14 */
			      "b A 10.0.0.300\n"		     /* 15 */
			      "c TXT \"AA 198.51.100.1 + 1,2-3\"\n"  /* 16 */
			      "d TXT \"AA 198.51.100.1 + 0\"\n"	     /* 17 */
			      "$INCLUDE\n"			     /* 18 */
			      "f TXT \"AA 198.51.100.1 + --5000\"\n" /* 19 */
			      "e TXT (\n"			     /* 20 */
			      "\"AA 198.51.100.1 + 5\"\n",	     /* 21 */
			      INT_HEAD, &set),
			 -EINVAL);
	expect_error(&set, "pub.zone", 1, "record without an owner name");
	expect_error(&set, "pub.zone", 2, "relative name and no $ORIGIN or SOA");
	expect_error(&set, "pub.zone", 3, "relative name and no $ORIGIN or SOA");
	expect_error(&set, "pub.zone", 6, "second SOA record (the first is at pub.zone:5)");
	expect_error(&set, "pub.zone", 7, "$TTL value is not a time");
	expect_error(&set, "pub.zone", 8, "$TTL takes one time value");
	expect_error(&set, "pub.zone", 9, "$ORIGIN takes one domain name");
	expect_error(&set, "pub.zone", 10, "unknown directive $GENERATE");
	expect_error(&set, "pub.zone", 11, "quoted text runs past the end of the line");
	expect_error(&set, "pub.zone", 12, "')' without '('");
	expect_error(&set, "pub.zone", 13, "bad record");
	expect_error(&set, "pub.zone", 14, "bad record");
	expect_error(&set, "pub.zone", 15, "bad record");
	expect_error(&set, "pub.zone", 16, "malformed AA record");
	expect_error(&set, "pub.zone", 17,
		     "malformed AA record: reference 0 is the null reference");
	expect_error(&set, "pub.zone", 18, "$INCLUDE takes a file name");
	expect_error(&set, "pub.zone", 19,
		     "malformed AA record: a reference may not start with '--'");
	expect_error(&set, "pub.zone", 20, "'(' is not closed before the end of the file");
	assert_int_equal(set.error_count, 18);
	assert_int_equal(set.count, 0);
	source_set_free(&set);
}

/* A zone needs an origin; neither file may lack one. */
static void test_no_origin(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg, "www.example.com. TXT \"AA 198.51.100.1 + 5000\"\n",
			      "www.internal. A 10.1.0.1\n", &set),
			 -EINVAL);
	expect_error(&set, "pub.zone", 0, "origin is unknown");
	expect_error(&set, "int.zone", 0, "origin is unknown");
	assert_int_equal(set.error_count, 2);
	assert_int_equal(set.count, 0);
	source_set_free(&set);

	/* an $ORIGIN alone will do, and a NUL byte is an error of its line */
	static const char with_nul[] = "$ORIGIN example.com.\nwww TXT "
				       "\"AA 198.51.100.1 + 5000\"\nx\0y TXT \"\"\n";
	static const char internal[] = "$ORIGIN internal.\nwww A 10.1.0.1\n";
	assert_int_equal(sources_load_zone_text(&cfg, "pub.zone", with_nul, sizeof(with_nul) - 1,
						"int.zone", internal, sizeof(internal) - 1, &set),
			 -EINVAL);
	assert_int_equal(set.count, 1);
	expect_error(&set, "pub.zone", 3, "NUL byte");
	assert_int_equal(set.error_count, 1);
	source_set_free(&set);
}

/* Errors of publication: references, hosts, names, addresses. */
static void test_publish_errors(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      PUB_HEAD "low TXT \"AA 198.51.100.1 + 1023\"\n"		    /* 3 */
				       "dyn TXT \"AA 198.51.100.1 + 4294967296\"\n"	    /* 4 */
				       "dyn2 TXT \"AA 198.51.100.1 + 72057594037927935\"\n" /* 5 */
				       "missing TXT \"AA 198.51.100.1 + 5000\"\n"	    /* 6 */
				       "two TXT \"AA 198.51.100.1 + 5001\"\n"		    /* 7 */
				       "www.example.net. TXT \"AA 198.51.100.1 + 5002\"\n"  /* 8 */
				       "enc TXT \"AA 198.51.100.1 + 5003\"\n"		    /* 9 */
				       "zero TXT \"AA 198.51.100.1 + 5004\"\n"		    /* 10 */
				       "multi TXT \"AA 198.51.100.1 + 5005\"\n"		    /* 11 */
				       "ok TXT \"AA 198.51.100.1 + 72057594037927936\"\n",  /* 12 */
			      INT_HEAD
			      "low A 10.1.0.1\ndyn A 10.1.0.2\ndyn2 A 10.1.0.2\n"
			      "two A 10.1.0.3\ntwo A 10.1.0.4\ntwo A 10.1.0.3\n"
			      "enc A 10.240.1.1\nzero AAAA ::\nmulti AAAA ff02::1\nok A 10.1.0.9\n"
			      "missing.sub A 10.1.0.5\n",
			      &set),
			 -EINVAL);
	expect_error(&set, "pub.zone", 3, "reference 1023 is reserved");
	expect_error(&set, "pub.zone", 4, "reference 4294967296 lies in the dynamic range");
	expect_error(&set, "pub.zone", 5, "lies in the dynamic range");
	expect_error(&set, "pub.zone", 6, "missing.internal. has no A or AAAA record in int.zone");
	expect_error(&set, "pub.zone", 7, "two.internal. has 2 A records (the first at int.zone:");
	expect_error(&set, "pub.zone", 8, "outside the zone's origin example.com.");
	expect_error(&set, "pub.zone", 9, "host address 10.240.1.1 lies in the encoded range");
	expect_error(&set, "pub.zone", 10, "host address :: is unspecified");
	expect_error(&set, "pub.zone", 11, "not a unicast address");
	assert_int_equal(set.error_count, 9);
	for (size_t i = 1; i < set.error_count; i++) /* in the order of their lines */
		assert_true(set.errors[i - 1].line < set.errors[i].line);
	assert_int_equal(set.count, 1);
	expect_address(find(&set, 72057594037927936u), "10.1.0.9");
	source_set_free(&set);
}

/* $INCLUDE from files: relative paths, origins, errors in included files at their lines. */
static void test_include(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	cfg.zone_count = 1;
	snprintf(cfg.zones[0].public_path, SOURCES_PATH_MAX, "%s/public.zone", SOURCES_TEST_DATA);
	snprintf(cfg.zones[0].internal_path, SOURCES_PATH_MAX, "%s/internal.zone",
		 SOURCES_TEST_DATA);
	assert_int_equal(sources_load(&cfg, &set), -EINVAL);
	expect_error(&set, "data/records.inc", 5, "malformed AA record");
	assert_int_equal(set.error_count, 1);
	assert_int_equal(set.count, 4);
	expect_address(find(&set, 5000), "10.1.0.80");
	assert_non_null(strstr(find(&set, 5000)->source, "data/records.inc:2"));
	expect_address(find(&set, 5001), "fd00:1::25");
	assert_non_null(strstr(find(&set, 5001)->source, "data/records.inc:3"));
	expect_address(find(&set, 6000), "10.1.2.80");
	assert_string_equal(find(&set, 6000)->name, "web.dept.example.com");
	assert_non_null(strstr(find(&set, 6000)->source, "data/sub/dept.inc:3"));
	expect_address(find(&set, 4000), "10.1.0.40");
	assert_non_null(strstr(find(&set, 4000)->source, "data/public.zone:10"));
	source_set_free(&set);

	/* the same from memory: relative includes start from the name's folder */
	{
		char name[4200];
		const char *text = "$ORIGIN example.com.\n@ SOA ns hostmaster 1 2 3 4 5\n"
				   "$INCLUDE records.inc\n";
		snprintf(name, sizeof(name), "%s/memory.zone", SOURCES_TEST_DATA);
		assert_int_equal(sources_load_zone_text(&cfg, name, text, strlen(text), "int.zone",
							INT_HEAD "www A 10.1.0.1\n",
							strlen(INT_HEAD "www A 10.1.0.1\n"), &set),
				 -EINVAL);
		expect_error(&set, "data/records.inc", 5, "malformed AA record");
		expect_error(&set, "data/records.inc", 3, "mail.internal. has no A or AAAA record");
		source_set_free(&set);

		cfg.no_include = true;
		assert_int_equal(sources_load_zone_text(&cfg, name, text, strlen(text), "int.zone",
							INT_HEAD, strlen(INT_HEAD), &set),
				 -EINVAL);
		expect_error(&set, "data/memory.zone", 3, "$INCLUDE is not allowed here");
		assert_int_equal(set.error_count, 1);
		source_set_free(&set);
	}
}

static void test_include_errors(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	cfg.zone_count = 2;
	snprintf(cfg.zones[0].public_path, SOURCES_PATH_MAX, "%s/loop.zone", SOURCES_TEST_DATA);
	snprintf(cfg.zones[0].internal_path, SOURCES_PATH_MAX, "%s/internal.zone",
		 SOURCES_TEST_DATA);
	snprintf(cfg.zones[1].public_path, SOURCES_PATH_MAX, "%s/missing.zone", SOURCES_TEST_DATA);
	snprintf(cfg.zones[1].internal_path, SOURCES_PATH_MAX, "%s/no-such.zone",
		 SOURCES_TEST_DATA);
	assert_int_equal(sources_load(&cfg, &set), -EINVAL);
	expect_error(&set, "data/loop.zone", 4, "$INCLUDE loop");
	expect_error(&set, "data/missing.zone", 4, "cannot read included file");
	expect_error(&set, "data/no-such.zone", 0, "cannot read: No such file or directory");
	assert_int_equal(set.error_count, 3);
	source_set_free(&set);
}

/* A temporary folder for files the test writes. */
static void make_dir(char *dir)
{
	snprintf(dir, 64, "/tmp/test_sources.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void remove_dir(const char *dir)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Includes nested deeper than 8 files stop there, with an error at the ninth $INCLUDE. */
static void test_include_depth(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };
	char dir[64], name[32], text[64];

	(void)state;
	make_dir(dir);
	for (int i = 1; i <= 10; i++) {
		snprintf(name, sizeof(name), "d%d.inc", i);
		snprintf(text, sizeof(text), "; level %d\n$INCLUDE d%d.inc\n", i, i + 1);
		write_file(dir, name, text);
	}
	write_file(dir, "pub.zone", "$ORIGIN example.com.\n$INCLUDE d1.inc\n");
	write_file(dir, "int.zone", INT_HEAD);
	config(&cfg);
	cfg.zone_count = 1;
	snprintf(cfg.zones[0].public_path, SOURCES_PATH_MAX, "%s/pub.zone", dir);
	snprintf(cfg.zones[0].internal_path, SOURCES_PATH_MAX, "%s/int.zone", dir);
	assert_int_equal(sources_load(&cfg, &set), -EINVAL);
	expect_error(&set, "/d8.inc", 2, "$INCLUDE nested more than 8 deep");
	assert_int_equal(set.error_count, 1);
	source_set_free(&set);
	remove_dir(dir);
}

/* Hosts files: public (own context by default), local, external, and every error. */
static void test_hosts(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };
	const struct ipr_mapping *m;

	(void)state;
	config(&cfg);
	assert_int_equal(hosts(&cfg,
			       "# comment\n"						   /* 1 */
			       "127.0.0.1 localhost\n"					   /* 2 */
			       "10.1.0.90 Wiki wiki.example.com #= public + 5100 # note\n" /* 3 */
			       "10.1.0.91 #= pub gw.example.com + 5101\n"		   /* 4 */
			       "10.1.0.92 db #= local\n"				   /* 5 */
			       "10.240.0.10 b6.example.net #= external gwb.example.net + 2466\n"
			       "fdee:eeee::20 #= ext 192.0.2.7 + 1-22\r\n" /* 7 */
			       "10.1.0.93 #= public 203.0.113.7 + 5102",   /* 8 */
			       &set),
			 -EINVAL);
	m = find(&set, 5100);
	assert_int_equal(m->kind, IPR_MAP_PUBLISHED);
	expect_address(m, "10.1.0.90");
	expect_context(m, "198.51.100.1");
	assert_string_equal(m->name, "wiki");
	assert_string_equal(m->source, "hosts:3");
	expect_context(find(&set, 5101), "gw.example.com");
	assert_string_equal(find(&set, 5101)->name, "");
	m = find(&set, 2466);
	assert_int_equal(m->kind, IPR_MAP_STATIC_EXTERNAL);
	expect_address(m, "10.240.0.10");
	expect_context(m, "gwb.example.net");
	assert_int_equal(m->context.kind, IPR_CONTEXT_NAME);
	assert_string_equal(m->name, "b6.example.net");
	m = find(&set, 0x10022);
	expect_address(m, "fdee:eeee::20");
	expect_context(m, "192.0.2.7");
	assert_string_equal(m->source, "hosts:7");
	assert_int_equal(set.count, 4);
	expect_error(&set, "hosts", 8, "public 203.0.113.7 is not a context of this gateway");
	assert_int_equal(set.error_count, 1);
	assert_int_equal(set.hosts_digest_count, 1);
	source_set_free(&set);
}

static void test_hosts_errors(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	cfg.encoded[1].enabled = false;
	assert_int_equal(hosts(&cfg,
			       "10.1.0.1 #= public + 5 extra\n"		      /* 1 */
			       "10.1.0.300 x #= local\n"		      /* 2 */
			       "10.1.0.2 #= publish + 5000\n"		      /* 3 */
			       "10.1.0.3 #= public + 1000\n"		      /* 4 */
			       "10.1.0.4 #= public + 4294967300\n"	      /* 5 */
			       "10.240.0.5 #= public + 5001\n"		      /* 6 */
			       "10.239.255.255 #= external 192.0.2.7 + 1\n"   /* 7 */
			       "10.240.0.0 #= external 192.0.2.7 + 2\n"	      /* 8 */
			       "10.240.0.1 #= external 192.0.2.7 + 3\n"	      /* 9 */
			       "10.255.255.255 #= external 192.0.2.7 + 4\n"   /* 10 */
			       "fdee:eeee::5 #= external 192.0.2.7 + 5\n"     /* 11 */
			       "10.240.0.6 #= external 198.51.100.1 + 6\n"    /* 12 */
			       "10.240.0.7 #= external GW.example.com. + 7\n" /* 13 */
			       "224.0.0.1 #= public + 5002\n"		      /* 14 */
			       "10.255.255.254 #= external 192.0.2.7 + 8\n",  /* 15 */
			       &set),
			 -EINVAL);
	expect_error(&set, "hosts", 1, "column 23: ");
	expect_error(&set, "hosts", 2, "column ");
	expect_error(&set, "hosts", 3, "column 13: unknown mapping keyword");
	expect_error(&set, "hosts", 4, "reference 1000 is reserved");
	expect_error(&set, "hosts", 5, "lies in the dynamic range");
	expect_error(&set, "hosts", 6,
		     "host address 10.240.0.5 lies in the encoded range "
		     "10.240.0.0/12");
	expect_error(&set, "hosts", 7,
		     "external 10.239.255.255 lies outside the encoded range "
		     "10.240.0.0/12");
	expect_error(&set, "hosts", 8,
		     "external 10.240.0.0 is the network address of the encoded "
		     "range 10.240.0.0/12");
	expect_error(&set, "hosts", 9, "is the gateway's own address");
	expect_error(&set, "hosts", 10, "is the broadcast address");
	expect_error(&set, "hosts", 11, "no encoded IPv6 range is configured");
	expect_error(&set, "hosts", 12, "external 198.51.100.1 is this gateway");
	expect_error(&set, "hosts", 13, "external gw.example.com is this gateway");
	expect_error(&set, "hosts", 14, "not a unicast address");
	assert_int_equal(set.error_count, 14);
	assert_int_equal(set.count, 1);
	expect_address(find(&set, 8), "10.255.255.254");
	source_set_free(&set);

	/* outside the range, and public + REF with no gateway to default to */
	cfg.gateway_count = 0;
	assert_int_equal(hosts(&cfg,
			       "192.0.2.9 #= external 192.0.2.7 + 1\n"
			       "10.1.0.1 #= public + 5000\n",
			       &set),
			 -EINVAL);
	expect_error(&set, "hosts", 1, "external 192.0.2.9 lies outside the encoded range");
	expect_error(&set, "hosts", 2, "public + REF needs a gateway address");
	assert_int_equal(set.error_count, 2);
	source_set_free(&set);
}

/* The same host under the same reference, from anywhere, is one mapping. */
static void test_dedupe(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      PUB_HEAD "www TXT \"AA 198.51.100.1 + 5000\"\n"
				       "www TXT \"AA 2001:db8:100::1 + 5000\"\n"
				       "web TXT \"AA gw.example.com + 5000\"\n",
			      INT_HEAD "www A 10.1.0.80\nweb CNAME www\n", &set),
			 0);
	assert_int_equal(hosts(&cfg,
			       "10.1.0.80 www #= public + 5000\n"
			       "10.240.0.10 b6 #= external gwb.example.net + 2466\n"
			       "10.240.0.10 b6 #= external GWB.example.net + 2466\n",
			       &set),
			 0);
	assert_int_equal(set.count, 6);
	assert_int_equal(sources_check_conflicts(&cfg, &set), 0);
	assert_int_equal(set.count, 2);
	/* the first place is kept */
	assert_string_equal(find(&set, 5000)->source, "pub.zone:3");
	expect_context(find(&set, 5000), "198.51.100.1");
	assert_string_equal(find(&set, 2466)->source, "hosts:2");
	assert_int_equal(set.places[1].line, 2);
	source_set_free(&set);
}

/* Clashes across a zone pair and a hosts file are errors at every place involved. */
static void test_conflicts_across_zone_and_hosts(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	assert_int_equal(zone(&cfg,
			      PUB_HEAD "www TXT \"AA 198.51.100.1 + 5000\"\n"
				       "mail TXT \"AA 198.51.100.1 + 5001\"\n",
			      INT_HEAD "www A 10.1.0.80\nmail A 10.1.0.25\n", &set),
			 0);
	assert_int_equal(hosts(&cfg,
			       "10.1.0.81 #= public + 5000\n"		    /* 1 */
			       "10.1.0.25 #= public + 5001\n"		    /* 2 */
			       "10.240.0.10 #= external 192.0.2.7 + 1\n"    /* 3 */
			       "10.240.0.10 #= external 192.0.2.7 + 2\n"    /* 4 */
			       "10.240.0.11 #= external 192.0.2.7 + 1\n"    /* 5 */
			       "fdee:eeee::11 #= external 192.0.2.7 + 1\n", /* 6 */
			       &set),
			 0);
	assert_int_equal(sources_check_conflicts(&cfg, &set), -EINVAL);
	expect_error(&set, "hosts", 1,
		     "reference 5000 is already published for 10.1.0.80 at pub.zone:3");
	expect_error(&set, "pub.zone", 3,
		     "reference 5000 is also published for 10.1.0.81 at hosts:1");
	expect_error(&set, "hosts", 4, "10.240.0.10 already stands for 192.0.2.7 + 1 at hosts:3");
	expect_error(&set, "hosts", 3, "10.240.0.10 is also given to 192.0.2.7 + 2 at hosts:4");
	expect_error(&set, "hosts", 5,
		     "192.0.2.7 + 1 is already reached at 10.240.0.10 from hosts:3");
	expect_error(&set, "hosts", 3, "192.0.2.7 + 1 is also reached at 10.240.0.11 from hosts:5");
	assert_int_equal(set.error_count, 6);
	/* the first of each clash stays; another family is another mapping */
	assert_int_equal(set.count, 4);
	expect_address(find(&set, 5000), "10.1.0.80");
	/* a second run finds nothing new */
	assert_int_equal(sources_check_conflicts(&cfg, &set), -EINVAL);
	assert_int_equal(set.error_count, 6);
	assert_int_equal(set.count, 4);
	source_set_free(&set);
}

/* The files of the repository's zones/ folder load as documented. */
static void test_example_zones(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };

	(void)state;
	config(&cfg);
	cfg.zone_count = 1;
	snprintf(cfg.zones[0].public_path, SOURCES_PATH_MAX, "%s/example.com.zone",
		 SOURCES_ZONES_DIR);
	snprintf(cfg.zones[0].internal_path, SOURCES_PATH_MAX, "%s/internal.zone",
		 SOURCES_ZONES_DIR);
	cfg.hosts_count = 1;
	snprintf(cfg.hosts_paths[0], SOURCES_PATH_MAX, "%s/hosts.example", SOURCES_ZONES_DIR);
	assert_int_equal(sources_load(&cfg, &set), 0);
	expect_no_errors(&set);
	assert_int_equal(set.count, 7);
	expect_address(find(&set, 5000), "10.1.0.80");
	expect_address(find(&set, 0x50001), "10.1.0.25");
	expect_address(find(&set, 7000), "fd00:1::42");
	expect_context(find(&set, 7000), "gw.example.com");
	expect_address(find(&set, 5100), "10.1.0.90");
	expect_address(find(&set, 0x60000), "10.1.0.91");
	expect_address(find(&set, 2466), "10.240.0.10");
	expect_address(find(&set, 0x10022), "fdee:eeee::20");
	assert_null(find(&set, 2466 + 1));
	source_set_free(&set);
}

/* Digests follow the bytes of each source, included files too, and nothing else. */
static void test_digests(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };
	uint8_t zone1[32], zone2[32], hosts1[32], again[32];
	char dir[64];

	(void)state;
	make_dir(dir);
	write_file(dir, "pub.zone", PUB_HEAD "$INCLUDE www.inc\n");
	write_file(dir, "www.inc", "www TXT \"AA 198.51.100.1 + 5000\"\n");
	write_file(dir, "int.zone", INT_HEAD "www A 10.1.0.80\n");
	write_file(dir, "other.zone", PUB_HEAD);
	write_file(dir, "hosts", "10.1.0.90 #= public + 5100\n");
	config(&cfg);
	cfg.zone_count = 2;
	snprintf(cfg.zones[0].public_path, SOURCES_PATH_MAX, "%s/pub.zone", dir);
	snprintf(cfg.zones[0].internal_path, SOURCES_PATH_MAX, "%s/int.zone", dir);
	snprintf(cfg.zones[1].public_path, SOURCES_PATH_MAX, "%s/other.zone", dir);
	snprintf(cfg.zones[1].internal_path, SOURCES_PATH_MAX, "%s/int.zone", dir);
	cfg.hosts_count = 1;
	snprintf(cfg.hosts_paths[0], SOURCES_PATH_MAX, "%s/hosts", dir);

	assert_int_equal(sources_load(&cfg, &set), 0);
	assert_int_equal(set.zone_digest_count, 2);
	assert_int_equal(set.hosts_digest_count, 1);
	memcpy(zone1, set.zone_digests[0], 32);
	memcpy(zone2, set.zone_digests[1], 32);
	memcpy(hosts1, set.hosts_digests[0], 32);
	assert_memory_not_equal(zone1, zone2, 32);
	source_set_free(&set);

	/* unchanged files, unchanged digests */
	assert_int_equal(sources_load(&cfg, &set), 0);
	assert_memory_equal(set.zone_digests[0], zone1, 32);
	assert_memory_equal(set.zone_digests[1], zone2, 32);
	assert_memory_equal(set.hosts_digests[0], hosts1, 32);
	source_set_free(&set);

	/* an included file changes its zone pair's digest only */
	write_file(dir, "www.inc", "www TXT \"AA 198.51.100.1 + 5001\"\n");
	assert_int_equal(sources_load(&cfg, &set), 0);
	assert_memory_not_equal(set.zone_digests[0], zone1, 32);
	memcpy(again, set.zone_digests[0], 32);
	assert_memory_equal(set.zone_digests[1], zone2, 32);
	assert_memory_equal(set.hosts_digests[0], hosts1, 32);
	source_set_free(&set);

	/* the internal file is part of every pair that names it */
	write_file(dir, "int.zone", INT_HEAD "www A 10.1.0.81\n");
	write_file(dir, "hosts", "10.1.0.90 #= public + 5101\n");
	assert_int_equal(sources_load(&cfg, &set), 0);
	assert_memory_not_equal(set.zone_digests[0], again, 32);
	assert_memory_not_equal(set.zone_digests[1], zone2, 32);
	assert_memory_not_equal(set.hosts_digests[0], hosts1, 32);
	source_set_free(&set);

	/* a file that cannot be read has a digest of its own */
	remove_dir(dir);
	assert_int_equal(sources_load(&cfg, &set), -EINVAL);
	assert_int_equal(set.zone_digest_count, 2);
	assert_memory_not_equal(set.hosts_digests[0], hosts1, 32);
	expect_error(&set, "/hosts", 0, "cannot read");
	source_set_free(&set);

	/* the text functions digest the same way */
	assert_int_equal(hosts(&cfg, "10.1.0.90 #= public + 5100\n", &set), 0);
	memcpy(again, set.hosts_digests[0], 32);
	assert_int_equal(hosts(&cfg, "10.1.0.90 #= public + 5100\n", &set), 0);
	assert_memory_equal(set.hosts_digests[1], again, 32);
	assert_int_equal(hosts(&cfg, "10.1.0.90 #= public + 5100 \n", &set), 0);
	assert_memory_not_equal(set.hosts_digests[2], again, 32);
	source_set_free(&set);
}

/* Unreadable sources: missing, a folder, an empty path. */
static void test_unreadable(void **state)
{
	struct sources_config cfg;
	struct source_set set;

	(void)state;
	config(&cfg);
	cfg.hosts_count = 3;
	snprintf(cfg.hosts_paths[0], SOURCES_PATH_MAX, "%s/no-such-file", SOURCES_TEST_DATA);
	snprintf(cfg.hosts_paths[1], SOURCES_PATH_MAX, "%s", SOURCES_TEST_DATA);
	cfg.hosts_paths[2][0] = '\0';
	assert_int_equal(sources_load(&cfg, &set), -EINVAL);
	expect_error(&set, "data/no-such-file", 0, "cannot read: No such file or directory");
	expect_error(&set, "data", 0, "cannot read: Is a directory");
	expect_error(&set, "-", 0, "a source path is empty or too long");
	assert_int_equal(set.error_count, 3);
	assert_int_equal(set.hosts_digest_count, 3);
	source_set_free(&set);

	/* the test data's hosts file: one mapping each, one error */
	cfg.hosts_count = 1;
	snprintf(cfg.hosts_paths[0], SOURCES_PATH_MAX, "%s/hosts", SOURCES_TEST_DATA);
	assert_int_equal(sources_load(&cfg, &set), -EINVAL);
	assert_int_equal(set.count, 2);
	expect_error(&set, "data/hosts", 6, "column 31: ");
	assert_int_equal(set.error_count, 1);
	source_set_free(&set);
}

/* Past the limit errors are cut, and the last one says so. */
static void test_error_limit(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };
	size_t len = 0, line = 20;
	char *text = malloc(2000 * line);

	(void)state;
	assert_non_null(text);
	config(&cfg);
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(text + len, line + 1, "10.1.0.1 #= bogus\n");
	assert_int_equal(sources_load_hosts_text(&cfg, "hosts", text, len, &set), -EINVAL);
	assert_int_equal(set.error_count, SOURCES_ERROR_MAX);
	expect_error(&set, "hosts", 999, "column 13: unknown mapping keyword");
	expect_error(&set, "hosts", 0, "more than 999 errors");
	free(text);
	source_set_free(&set);
}

static void test_format_and_free(void **state)
{
	struct source_error e = { .file = "/etc/hosts", .line = 12, .reason = "bad" };
	struct source_set set = { 0 };
	char buf[64];

	(void)state;
	assert_int_equal(source_error_format(&e, buf, sizeof(buf)), 18);
	assert_string_equal(buf, "/etc/hosts:12: bad");
	e.line = 0;
	source_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/hosts: bad");
	source_set_free(NULL);
	source_set_free(&set);
	source_set_free(&set);
	/* no text at all is an empty source */
	{
		struct sources_config cfg;
		config(&cfg);
		assert_int_equal(sources_load_hosts_text(&cfg, NULL, NULL, 5, &set), 0);
		assert_int_equal(sources_load_zone_text(&cfg, "", NULL, 0, NULL, NULL, 0, &set),
				 -EINVAL);
		expect_error(&set, "-", 0, "origin is unknown");
		source_set_free(&set);
	}
}

/*
 * Addresses no local host or remote gateway can have, by the rule every part follows
 * (core/context.h); an IPv4-mapped context is its IPv4 address.
 */
static void test_unusable_addresses(void **state)
{
	struct sources_config cfg;
	struct source_set set = { 0 };
	const struct ipr_mapping *m;

	(void)state;
	config(&cfg);
	assert_int_equal(hosts(&cfg,
			       "127.0.0.1 lo #= public + 5000\n"		    /* 1 */
			       "fe80::5 ll #= public + 5001\n"			    /* 2 */
			       "::ffff:10.1.0.5 m #= public + 5002\n"		    /* 3 */
			       "0.1.2.3 z #= public + 5003\n"			    /* 4 */
			       "10.240.0.7 #= external 127.0.0.1 + 7\n"		    /* 5 */
			       "10.240.0.8 #= external 0.0.0.0 + 8\n"		    /* 6 */
			       "10.240.0.9 #= external 10.240.3.3 + 9\n"	    /* 7 */
			       "10.240.0.10 #= external ff02::1 + 10\n"		    /* 8 */
			       "10.240.0.11 #= external ::ffff:198.51.100.1 + 11\n" /* 9 */
			       "10.240.0.12 #= external ::ffff:203.0.113.5 + 12\n"  /* 10 */
			       "10.1.0.6 w #= public ::ffff:198.51.100.1 + 5004\n", /* 11 */
			       &set),
			 -EINVAL);
	expect_error(&set, "hosts", 1, "host address 127.0.0.1 is a loopback address");
	expect_error(&set, "hosts", 2, "host address fe80::5 is a link-local address");
	expect_error(&set, "hosts", 3, "host address ::ffff:10.1.0.5 is an IPv4-mapped");
	expect_error(&set, "hosts", 4, "host address 0.1.2.3 is unspecified");
	expect_error(&set, "hosts", 5, "external context 127.0.0.1 is a loopback address");
	expect_error(&set, "hosts", 6, "external context 0.0.0.0 is unspecified");
	expect_error(&set, "hosts", 7, "external context 10.240.3.3 is inside");
	expect_error(&set, "hosts", 8, "external context ff02::1 is a multicast address");
	expect_error(&set, "hosts", 9, "external 198.51.100.1 is this gateway");
	assert_int_equal(set.error_count, 9);
	assert_int_equal(set.count, 2);
	m = find(&set, 12);
	assert_non_null(m);
	assert_int_equal(m->context.kind, IPR_CONTEXT_IPV4);
	m = find(&set, 5004);
	assert_non_null(m);
	assert_int_equal(m->context.kind, IPR_CONTEXT_IPV4);
	source_set_free(&set);

	/* an AA record under our context in its IPv4-mapped form is ours */
	assert_int_equal(zone(&cfg, PUB_HEAD "www TXT \"AA ::ffff:198.51.100.1 + 5000\"\n",
			      INT_HEAD "www A 10.1.0.1\n", &set),
			 0);
	assert_int_equal(set.count, 1);
	assert_int_equal(set.mappings[0].context.kind, IPR_CONTEXT_IPV4);
	source_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_names),
		cmocka_unit_test(test_cname),
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_other_gateways),
		cmocka_unit_test(test_multi_string),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_zone_syntax_errors),
		cmocka_unit_test(test_no_origin),
		cmocka_unit_test(test_publish_errors),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_hosts_errors),
		cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_conflicts_across_zone_and_hosts),
		cmocka_unit_test(test_example_zones),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_error_limit),
		cmocka_unit_test(test_format_and_free),
		cmocka_unit_test(test_unusable_addresses),
	};

	return cmocka_run_group_tests_name("gwctl-sources", tests, NULL, NULL);
}
