/* Where and why a parse failed: the one error-detail type of the shared core. */
#ifndef IPR_ERR_H
#define IPR_ERR_H

#include <stddef.h>

#if defined(__GNUC__)
#define IPR_MUST_CHECK __attribute__((warn_unused_result))
#else
#define IPR_MUST_CHECK
#endif

/*
 * Core functions return 0 on success or a negative errno value. Parsers also fill a
 * struct ipr_err, when the caller passes one, with a fixed English reason and the 1-based
 * column of the offending character (0 when the whole input is at fault, such as an empty
 * string). The reason is a string literal: it never needs freeing and survives the input.
 */
struct ipr_err {
	const char *reason;
	size_t column;
};

/* Records reason and column (if err is not NULL) and returns -code, for `return ipr_fail(...)`. */
int ipr_fail(struct ipr_err *err, int code, size_t column, const char *reason);

#endif
