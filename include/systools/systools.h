/**
 * @file systools/systools.h
 * @brief Umbrella header: includes every module of libsystools.
 */
#ifndef SYSTOOLS_SYSTOOLS_H
#define SYSTOOLS_SYSTOOLS_H

#include "common.h"
#include "error.h"
#include "sys.h"

#endif
