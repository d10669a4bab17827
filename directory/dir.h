/*
 * dir.h -- ID conversion: local ID <-> Internet email address,
 * credentials and privacy, against LDAP or an LDIF file.
 */
#ifndef STC_DIR_H
#define STC_DIR_H
#endif
