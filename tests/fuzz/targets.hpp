// Fuzz targets: each takes arbitrary bytes, feeds them to one parser (or the command line), and returns
// normally for any input: bad input must end as bitscale::InputError (exit code 2 for the CLI). Anything else,
// a crash, a sanitizer report, another exception or an internal-error exit, is a bug; the fuzzer reports it.
// libFuzzer mains in *_fuzz.cpp; tests/fuzz/regressions_test.cpp replays every saved input in every build.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bitscale::fuzz {

void workload_toml(const std::uint8_t* data, std::size_t size);
void cluster_toml(const std::uint8_t* data, std::size_t size);
void nccl_log(const std::uint8_t* data, std::size_t size);
// A run CSV (tools/run_csv.hpp), then the medians of every run read.
void run_csv(const std::uint8_t* data, std::size_t size);
// Engine measurements (tools/calibrate_engine.hpp), then the profile fitted from them; workloads by shipped
// name or "mlp:..." only (no file is read).
void engine_toml(const std::uint8_t* data, std::size_t size);
// The input is split into arguments at newlines, after a command chosen by its first byte (predict,
// collective, workload show, cluster show, codec list, predictors); arguments that could touch files
// (--out, --trace, paths with '/') are dropped.
void cli(const std::uint8_t* data, std::size_t size);

}  // namespace bitscale::fuzz
