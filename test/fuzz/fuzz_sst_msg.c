/*
 * fuzz_sst_msg.c -- libFuzzer target: every input goes through
 * sst_msg_decode() as a datagram and as a stream message; whatever is
 * accepted or answerable is also fed to the builders.
 */
#include <stddef.h>
#include <stdint.h>

#include <re.h>

/* The code under test is compiled into this unit, so that it carries
 * the fuzzer's coverage instrumentation whatever libsst.a was built
 * with. */
#include "sipstack/sst_msg.c"
#include "sipstack/sst_build.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool not_us(const struct uri *uri, void *arg)
{
	(void)arg;
	return pl_strcmp(&uri->host, "proxy.example.com") == 0;
}

static void exercise(const struct sip_msg *msg)
{
	struct sst_fwd_spec f = {
		{SIP_TRANSP_TLS, "proxy.example.com",
		 "z9hG4bKfuzzfuzzfuzzfuzzfuzzfuz"},
		NULL, "<sip:proxy.example.com;lr>", not_us, NULL, NULL,
		false, NULL,
	};
	struct mbuf *out = NULL;

	if (msg->req) {
		if (!sst_build_response(&out, msg, 400, "Bad", NULL, NULL,
					NULL))
			out = mem_deref(out);
		if (!sst_build_forward(&out, msg, &f))
			out = mem_deref(out);
	}
	else if (!sst_build_fwd_response(&out, msg)) {
		out = mem_deref(out);
	}
}

static void run(const uint8_t *data, size_t size, bool stream)
{
	struct sip_msg *msg = NULL;
	struct sst_verdict v;
	struct mbuf *mb;

	mb = mbuf_alloc(size ? size : 1);
	if (!mb)
		return;
	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;

	if (sst_msg_decode(&msg, mb, stream, NULL, &v) == 0) {
		exercise(msg);
		mem_deref(msg);
	}
	else if (v.reply) {
		exercise(v.msg);
	}

	(void)sst_reason_name(v.reason);
	sst_verdict_reset(&v);
	mem_deref(mb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, false);
	run(data, size, true);
	return 0;
}
