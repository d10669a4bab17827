/*
 * gw_pres_seam.h -- where the presence service's NOTIFYs leave, so that
 * tests can drive SUBSCRIBE, state changes and the NOTIFY fan-out
 * without sockets (test/gateway/test_gw_services.c).
 *
 * Owns: one setter.  The daemon never calls it: its NOTIFYs go through
 * gw_send_request() (gw_lsnr.h), the default.
 * Memory: nothing is kept but the function pointer.
 */
#ifndef GW_PRES_SEAM_H
#define GW_PRES_SEAM_H

#include "gateway/gw_lsnr.h"

/* A sender with gw_send_request()'s contract (0: the transaction took
 * the request, resph gets its one final answer later). */
typedef __typeof__(gw_send_request) gw_pres_send_h;

/* Send NOTIFYs through sendh from now on; NULL: gw_send_request. */
void gw_pres_send_seam(gw_pres_send_h *sendh);

#endif
