/*
 * gw_cmd_check.h -- `stgateway check` (gw_cmd_check.c).
 */
#ifndef STC_GW_CMD_CHECK_H
#define STC_GW_CMD_CHECK_H

/* stgateway check [-c FILE] [-n NAME] [--directory] */
int  gw_cmd_check(const char *cmd, int argc, char **argv);

#endif /* STC_GW_CMD_CHECK_H */
