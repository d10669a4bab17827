/*
 * gw_daemon.h -- the daemon's main (gw_daemon.c).
 */
#ifndef STC_GW_DAEMON_H
#define STC_GW_DAEMON_H

int  gw_daemon_main(int argc, char **argv);

#endif /* STC_GW_DAEMON_H */
