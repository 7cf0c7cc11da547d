/**
 * @file systools/systools.h
 * @brief Umbrella header: includes every module of libsystools.
 */
#ifndef SYSTOOLS_SYSTOOLS_H
#define SYSTOOLS_SYSTOOLS_H

#include "common.h"
#include "dbm.h"
#include "error.h"
#include "fnmatch.h"
#include "glob.h"
#include "io.h"
#include "ipc.h"
#include "os.h"
#include "path.h"
#include "pickle.h"
#include "shelve.h"
#include "struct.h"
#include "subprocess.h"
#include "sys.h"
#include "value.h"

#endif
