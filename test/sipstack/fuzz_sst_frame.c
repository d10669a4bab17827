/*
 * fuzz_sst_frame.c -- libFuzzer target for the stream framer.  The first
 * byte picks the chunk size, the rest is the stream; every message that
 * comes out must be a complete header block followed by exactly its
 * Content-Length, and the framer must never hold more than its limits.
 */
#include <stdlib.h>
#include <string.h>

#include <re.h>

/* The framer is compiled into this unit, so that it carries the
 * fuzzer's coverage instrumentation whatever libsst.a was built with
 * (linked from the library it had none, and the fuzzer ran blind). */
#include "sipstack/sst_frame.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* small limits, so that short inputs reach both refusals */
	static const struct sst_limits lim = {.hdr_max = 2048,
					      .body_max = 4096};
	struct sst_frame *fr = NULL;
	size_t chunk, off;

	if (size < 1 || sst_frame_alloc(&fr, &lim))
		return 0;

	chunk = (size_t)data[0] % 64 + 1;
	for (off = 1; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		int err = sst_frame_push(fr, data + off, n);

		while (!err) {
			struct mbuf *mb = NULL;
			bool ping = false;

			err = sst_frame_next(fr, &mb, &ping);
			if (!err && !ping) {
				if (!mb || mb->end < 4 || mb->end > 2048 + 4096)
					abort();
				mem_deref(mb);
			}
		}
		if (err != ENODATA && err != EBADMSG && err != EMSGSIZE)
			abort();
		if (sst_frame_buffered(fr) > 2048 + 4096 + chunk)
			abort();
		if (err != ENODATA)
			break;
	}

	mem_deref(fr);
	return 0;
}
