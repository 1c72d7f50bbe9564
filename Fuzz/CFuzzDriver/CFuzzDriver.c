// Declarations only (see include/CFuzzDriver.h); SwiftPM needs one C source per C target.
#include "CFuzzDriver.h"
