/* placeholder: the codec is being written */
#include "beacon_frame.h"
