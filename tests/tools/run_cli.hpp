// The command line run in-process for the CLI tests: exit code, standard output and standard error.
#pragma once
#include <sstream>
#include <string>
#include <vector>

#include "tools/cli.hpp"

namespace bitscale::test {

struct Result {
  int code;
  std::string out, err;
};

inline Result run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace bitscale::test
