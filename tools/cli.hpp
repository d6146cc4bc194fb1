// The bitscale command line as a function, so tests can run it in-process. Exit codes: 0 success,
// 1 a validation or fit-quality threshold was missed, 2 bad input (one line on stderr naming the field,
// the value and the rule), 3 an internal error (a bug: please report it).
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace bitscale {

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace bitscale
