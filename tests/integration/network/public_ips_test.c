#include "sec_bed.h"
int main(void) { return 0; }
