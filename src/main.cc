#include "cli/app.h"

int main(int argc, char** argv) { return byoc::cli::run(argc, argv); }
