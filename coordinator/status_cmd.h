//  `mp-coord status` (status_cmd.c).
#ifndef MP_STATUS_CMD_H
#define MP_STATUS_CMD_H

//  Runs `mp-coord status ARGS` (argv[0] is "status"); returns the exit status.
int mp_status_main (int argc, char **argv);

#endif
