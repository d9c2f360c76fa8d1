/* Unit tests of the safe file reader: devices, FIFOs, size, binary bytes, files that move. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "file.h"

static char dir[] = "/tmp/ipr-file-test-XXXXXX";
static char path[64];

/* pread is wrapped (-Wl,--wrap=pread64): the first `moves` reads each append to the file. */
static int moves;
ssize_t __real_pread64(int fd, void *buf, size_t count, off_t offset);
ssize_t __wrap_pread64(int fd, void *buf, size_t count, off_t offset);

ssize_t __wrap_pread64(int fd, void *buf, size_t count, off_t offset)
{
	ssize_t n = __real_pread64(fd, buf, count, offset);

	if (moves > 0 && offset == 0) {
		int w = open(path, O_WRONLY | O_APPEND);
		moves--;
		assert_true(w >= 0);
		assert_int_equal(write(w, "x\n", 2), 2);
		close(w);
	}
	return n;
}

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/f", dir);
	return 0;
}

static int teardown(void **state)
{
	char fifo[80];

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void expect_refused(const char *p, size_t max, int code, const char *message)
{
	struct ipr_file f;
	struct ipr_file_err err;
	char msg[256];

	assert_int_equal(ipr_file_read(p, max, &f, &err), -code);
	assert_null(f.text);
	assert_int_equal(err.code, code);
	ipr_file_error_format(p, &err, msg, sizeof(msg));
	if (!strstr(msg, message))
		fail_msg("expected '%s' in '%s'", message, msg);
}

static void test_reads_text(void **state)
{
	struct ipr_file f;
	struct ipr_file_err err;

	(void)state;
	write_file("a = 1\r\n\tb\f\v\n\xc3\xa9\n", 15);
	assert_int_equal(ipr_file_read(path, 100, &f, &err), 0);
	assert_int_equal(f.len, 15);
	assert_memory_equal(f.text, "a = 1\r\n\tb\f\v\n\xc3\xa9\n", 16); /* NUL-terminated */
	ipr_file_release(&f);
	ipr_file_release(&f); /* twice is harmless */
	write_file("", 0);
	assert_int_equal(ipr_file_read(path, 0, &f, &err), 0);
	assert_int_equal(f.len, 0);
	assert_string_equal(f.text, "");
	ipr_file_release(&f);
}

/* Devices and FIFOs never end or may block: refused at once, without reading. */
static void test_refuses_what_is_not_a_file(void **state)
{
	char fifo[80];

	(void)state;
	expect_refused("/dev/zero", 1 << 20, EINVAL, "/dev/zero: not a regular file");
	expect_refused("/dev/null", 1 << 20, EINVAL, "not a regular file");
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_refused(fifo, 1 << 20, EINVAL, "not a regular file");
	expect_refused(dir, 1 << 20, EISDIR, "Is a directory");
	expect_refused("/nonexistent/x", 1 << 20, ENOENT, "No such file or directory");
}

static void test_refuses_large_files(void **state)
{
	(void)state;
	write_file("0123456789", 10);
	expect_refused(path, 9, EFBIG, "larger than 9 bytes");
	struct ipr_file f;
	struct ipr_file_err err;
	assert_int_equal(ipr_file_read(path, 10, &f, &err), 0);
	ipr_file_release(&f);
}

/* A NUL byte or a control character marks binary content, reported at its line and column. */
static void test_refuses_binary(void **state)
{
	(void)state;
	write_file("ok\nab\0c\n", 8);
	expect_refused(path, 100, EILSEQ, ":2:3: NUL byte: binary content is refused");
	write_file("\0\0\0\0", 4);
	expect_refused(path, 100, EILSEQ, ":1:1: NUL byte");
	write_file("a\n\n  \x1b[0m\n", 10);
	expect_refused(path, 100, EILSEQ, ":3:3: control character 0x1b");
	write_file("\x7f"
		   "ELF\x02\x01\x01",
		   7);
	expect_refused(path, 100, EILSEQ, ":1:5: control character 0x02");
}

/* A file that changes while it is read is read again; one that never holds still is refused. */
static void test_file_that_moves(void **state)
{
	struct ipr_file f;
	struct ipr_file_err err;

	(void)state;
	write_file("a\n", 2);
	moves = 1;
	assert_int_equal(ipr_file_read(path, 100, &f, &err), 0);
	assert_int_equal(moves, 0);
	assert_int_equal(f.len, 4);
	assert_string_equal(f.text, "a\nx\n");
	ipr_file_release(&f);

	moves = 100;
	expect_refused(path, 100, EAGAIN, "changed while being read");
	assert_true(moves < 100);
	moves = 0;

	/* growing past the limit while read is caught too */
	write_file("a\n", 2);
	moves = 1;
	expect_refused(path, 3, EFBIG, "larger than 3 bytes");
	moves = 0;
}

/* A file just written is read once it has been quiet; one dated ahead of our clock at once. */
static void test_quiet_files(void **state)
{
	struct timespec times[2];
	struct ipr_file f;
	struct ipr_file_err err;

	(void)state;
	write_file("fresh\n", 6);
	assert_int_equal(ipr_file_read(path, 100, &f, &err), 0);
	assert_string_equal(f.text, "fresh\n");
	ipr_file_release(&f);
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec += 3600;
	times[1] = times[0];
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_int_equal(ipr_file_read(path, 100, &f, &err), 0);
	ipr_file_release(&f);
}

static int count_lines(void *ctx, const char *line, size_t len, struct ipr_err *err)
{
	(void)line;
	(void)len;
	(void)err;
	(*(int *)ctx)++;
	return 0;
}

/* The settings reader shares the refusals: /dev/zero ends at once with a reason. */
static void test_conf_read(void **state)
{
	char msg[256];
	int lines = 0;

	(void)state;
	assert_int_equal(ipr_conf_read("/dev/zero", count_lines, &lines, msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "/dev/zero: not a regular file");
	assert_int_equal(lines, 0);
	write_file("a = 1\n\nb = 2", 12);
	assert_int_equal(ipr_conf_read(path, count_lines, &lines, msg, sizeof(msg)), 0);
	assert_int_equal(lines, 3);
	write_file("a = 1\n\0\0\0", 9);
	lines = 0;
	assert_int_equal(ipr_conf_read(path, count_lines, &lines, msg, sizeof(msg)), -EILSEQ);
	assert_non_null(strstr(msg, "/f:2:1: NUL byte"));
	assert_int_equal(lines, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_text),
		cmocka_unit_test(test_refuses_what_is_not_a_file),
		cmocka_unit_test(test_refuses_large_files),
		cmocka_unit_test(test_refuses_binary),
		cmocka_unit_test(test_file_that_moves),
		cmocka_unit_test(test_quiet_files),
		cmocka_unit_test(test_conf_read),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
