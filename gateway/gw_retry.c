/*
 * gw_retry.c -- the retry policy: see gw_retry.h.
 *
 * Why two kinds: asking again soon after a refusal (a mistyped contact,
 * a partner that does not accept us) only fills the partner's log; a
 * timeout or a 503 is a partner or path that is busy or restarting, and
 * the user should see the truth again as soon as it is back.
 */
#include "gateway/gw_retry.h"

bool gw_retry_permanent(uint16_t scode)
{
	switch (scode) {
	case 400: case 403: case 404: case 405: case 410: case 415:
	case 416: case 420: case 484: case 485: case 488: case 489:
	case 603: case 604: case 606:
		return true;
	default:
		return false;
	}
}

/* first, 2*first, 4*first ... capped at max; no overflow for any fails */
static unsigned doubling(unsigned first, unsigned max, unsigned fails)
{
	unsigned s = first;

	while (fails-- > 1 && s < max)
		s = s > max / 2 ? max : s * 2;
	return s < max ? s : max;
}

unsigned gw_retry_wait(bool permanent, unsigned fails)
{
	return permanent ?
		doubling(GW_RETRY_REFUSED_S, GW_RETRY_REFUSED_MAX_S, fails) :
		doubling(GW_RETRY_TRANSIENT_S, GW_RETRY_TRANSIENT_MAX_S,
			 fails);
}

unsigned gw_retry_link_wait(unsigned fails, unsigned max_s)
{
	return doubling(GW_RETRY_LINK_FIRST_S, max_s ? max_s : 1, fails);
}
