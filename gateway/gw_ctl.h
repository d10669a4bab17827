/*
 * gw_ctl.h -- the control side (gw_ctl.c): the status tree, the control
 * commands the daemon serves, and `stgateway ctl`.
 */
#ifndef STC_GW_CTL_H
#define STC_GW_CTL_H

#include <stddef.h>

#include "daemon/dmn.h"

struct gw;

int  gw_status_build(struct dmn_st **stp, struct gw *gw);
extern const struct dmn_ctl_cmd gw_ctl_cmdv[];
extern const size_t gw_ctl_cmdc;
int  gw_cmd_ctl(const char *cmd, int argc, char **argv);

#endif /* STC_GW_CTL_H */
