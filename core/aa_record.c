/* Recognising and parsing AA TXT records, from joined text or from TXT RDATA. */
#include "aa_record.h"

#include <errno.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int ipr_aa_parse_text(const char *text, size_t len, struct ipr_addr *out, struct ipr_err *err)
{
	size_t start = 2, end = len;
	int rc;

	if (len < 2 || text[0] != 'A' || text[1] != 'A' || (len > 2 && !is_blank(text[2])))
		return ipr_fail(err, ENOENT, 0, "not an AA record");
	if (len > IPR_AA_TEXT_MAX)
		return ipr_fail(err, EINVAL, IPR_AA_TEXT_MAX + 1, "AA record text is too long");
	while (start < len && is_blank(text[start]))
		start++;
	while (end > start && is_blank(text[end - 1]))
		end--;
	if (start == end)
		return ipr_fail(err, EINVAL, len + 1, "AA record has no address");

	rc = ipr_addr_parse(text + start, end - start, out, err);
	if (rc < 0) {
		if (err && err->column)
			err->column += start;
		return rc;
	}
	if (ipr_ref_is_null(&out->ref))
		return ipr_fail(err, EINVAL, start + 1, "reference 0 is the null reference");
	return 0;
}

int ipr_aa_parse_rdata(const uint8_t *rdata, size_t len, struct ipr_addr *out, struct ipr_err *err)
{
	char text[IPR_AA_TEXT_MAX + 1];
	size_t joined = 0, pos = 0;

	if (len == 0)
		return ipr_fail(err, EBADMSG, 0, "TXT RDATA is empty");
	while (pos < len) {
		size_t piece = rdata[pos++];
		if (piece > len - pos)
			return ipr_fail(err, EBADMSG, pos,
					"TXT string runs past the end of the RDATA");
		/* Past the limit only the length matters: the text parser rejects it or says not
		 * AA. */
		size_t copy = piece;
		if (copy > sizeof(text) - joined)
			copy = sizeof(text) - joined;
		memcpy(text + joined, rdata + pos, copy);
		joined += copy;
		pos += piece;
	}
	return ipr_aa_parse_text(text, joined, out, err);
}
