// The `codec` commands: list, bench, encode, decode, error.
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace bitscale {

struct CodecCommands {
  CLI::App* list = nullptr;
  CLI::App* bench = nullptr;
  CLI::App* encode = nullptr;
  CLI::App* decode = nullptr;
  CLI::App* error = nullptr;
  std::string codec, in, out, rounding = "nearest", seed = "0", ranks = "1", sizes = "4KiB,1MiB,64MiB",
                     runs = "20", format = "table";
  bool gpu = false;
};

// Adds the subcommands to `codec`; the returned object must outlive parsing.
void add_codec_commands(CLI::App* codec, CodecCommands& c);
// Runs the parsed one; returns -1 when none of them was given.
int run_codec_command(const CodecCommands& c, std::ostream& out, std::ostream& err);

}  // namespace bitscale
