// bitscale calibrate --from-engine FILE: a cluster profile from another training engine's own microbenchmarks
// (tools/ddp_train.py calibrate: PyTorch on gloo), fitted and written as `calibrate --backend` does
// (tools/calibrate_host.hpp). The file (TOML) holds what the engine measured on every rank at once:
//   engine, library, engine_version, command, date, host, cpu, ranks, nodes, memory_gib, codec_values (what the
//   codecs were timed on), collective_values (what the collectives summed), layer_timing (how the layers were timed),
//   rank_skew_timing (what the rank skew timed, when not the reference linear layer)
//   [rates]       memcpy_bytes_per_s, gemm_fp32_flops_per_s, linear_flops_per_s, conv_flops_per_s (the reference
//                 layers, forward + backward), compute_during_comm, comm_during_compute, rank_skew,
//                 contention_measured, layer_spread (the layer rates' spread between two measurements)
//   [codecs]      bytes read + written per second by wire format, both directions together
//   [codec_encode], [codec_decode]  (optional, both or neither) each direction alone, by format of [codecs]
//   [[layer]]     workload (file), layer (name), batch, seconds (one forward + backward as training runs it)
//   [[collective]] op, type, bytes, median_s, min_s, max_s (slowest rank per iteration, median)
// A layer's rate is 3x its forward FLOPs (bitscale's count) over its time, keyed by its shape.
#pragma once
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "model/workload.hpp"
#include "tools/calibrate_host.hpp"

namespace bitscale {

struct EngineMeasurements {
  std::string engine, library, version, command, date, codec_values, collective_values, layer_timing;
  std::string rank_skew_timing;
  // how the engine chose the contention rounds' allreduce (its words; empty: a fixed 2 MiB) and the batch of the
  // linear layer beside it
  std::string contention_sizing;
  int contention_samples = 256;
  HostScope scope;
  HostRates rates;
  std::vector<MpiTiming> timings;
};

// Reads and checks every field (InputError naming it); `workload_of` resolves a [[layer]]'s workload.
EngineMeasurements parse_engine_measurements(std::string_view text, const std::string& path,
                                             const std::function<Workload(const std::string&)>& workload_of);

struct EngineProfile {
  ClusterProfile profile;
  SeriesFits fits;
};
// The profile of the measurements (named after `file`), its fits printed to `out`.
EngineProfile engine_profile(const EngineMeasurements& m, const std::string& file, double max_error,
                             std::ostream& out, std::ostream& err);

}  // namespace bitscale
