#include "roomlink/roomlink.h"
extern "C" const char* rl_version(void) { return "0.1.0"; }
