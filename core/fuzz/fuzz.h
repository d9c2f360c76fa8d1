/* Shared by the libFuzzer targets: the entry point and a check that aborts on a broken invariant.
 */
#ifndef IPR_FUZZ_H
#define IPR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Invariant checks stay on in every build type: a fuzz target that cannot fail is useless. */
#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/*
 * Puts data into a memory file (one per process, rewritten each time) and names it in
 * path[size], for the targets that read files the way the daemons do.
 */
static inline void fuzz_as_file(const uint8_t *data, size_t size, char *path, size_t path_size)
{
	static int fd = -1;
	size_t done = 0;

	if (fd < 0)
		fd = memfd_create("fuzz", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && ftruncate(fd, 0) == 0);
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		FUZZ_CHECK(n > 0);
		done += (size_t)n;
	}
	/* dated long ago: the reader waits out files modified in the last moment (core/file.h) */
	struct timespec times[2] = { { 0, UTIME_OMIT }, { 1, 0 } };
	FUZZ_CHECK(futimens(fd, times) == 0);
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
}

#endif
