#include <iostream>

int main() { std::cerr << "kerascpp: not built yet\n"; return 1; }
