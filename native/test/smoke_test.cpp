#include "roomlink/roomlink.h"
#include <cstring>
int main() { return std::strcmp(rl_version(), "0.1.0") == 0 ? 0 : 1; }
