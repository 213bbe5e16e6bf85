/* placeholder */
#include "eddystone_eid.h"
