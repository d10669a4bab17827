/*
 * gw_fed_seam.h -- where the federation side's requests to connector
 * links leave (OPTIONS probes, SUBSCRIBEs, MESSAGEs), so that tests can
 * drive the links and the shared federation subscriptions without
 * sockets (test/gateway/test_gw_fed.c).
 *
 * Owns: one setter.  The daemon never calls it: the requests go through
 * gw_send_request() (gw_lsnr.h), the default, with the link's own send
 * function in the path.
 * Memory: nothing is kept but the function pointer.
 */
#ifndef GW_FED_SEAM_H
#define GW_FED_SEAM_H

#include "gateway/gw_lsnr.h"

/* A sender with gw_send_request()'s contract (0: the transaction took
 * the request, resph gets its one final answer later). */
typedef __typeof__(gw_send_request) gw_fed_send_h;

/* Send requests over connector links through sendh from now on; NULL:
 * gw_send_request. */
void gw_fed_send_seam(gw_fed_send_h *sendh);

#endif
