/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ICEVMM_ICE_CMD_H
#define ICEVMM_ICE_CMD_H

/*
 * `icevmm ice encrypt|decrypt --keys KEYS --slot N --dun D [--in F] [--out F]`:
 * the ICE engine offline, to check what a guest wrote. argv[0] is "ice".
 * Returns the process exit status (0, 1 error, 2 usage).
 */
int ice_cmd_main(int argc, char **argv);
/* icevmm ice derive (vmm/ice_derive.c): argv[0] is "derive". */
int ice_derive_main(int argc, char **argv);

#endif
