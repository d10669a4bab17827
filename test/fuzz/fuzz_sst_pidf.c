/*
 * fuzz_sst_pidf.c -- libFuzzer target: every input is a PUBLISH or
 * NOTIFY body for sst_pidf_decode().  A document that is read is written
 * again with sst_pidf_encode() and must read back to the same status,
 * entity and note.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test is compiled into this unit, so that it carries
 * the fuzzer's coverage instrumentation. */
#include "sipstack/sst_pidf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sst_pidf pd, again;
	struct mbuf *mb;

	if (sst_pidf_decode(&pd, (const char *)data, size))
		return 0;

	mb = mbuf_alloc(512);
	if (!mb)
		return 0;
	if (!sst_pidf_encode(mb, pd.entity, pd.st,
			    pd.note[0] ? pd.note : NULL)) {
		if (sst_pidf_decode(&again, (const char *)mb->buf, mb->end) ||
		    again.st != pd.st || strcmp(again.entity, pd.entity) ||
		    strcmp(again.note, pd.note))
			abort();
	}
	mem_deref(mb);
	return 0;
}
