// Reading nccl-tests output (all_reduce_perf, all_gather_perf, reduce_scatter_perf, broadcast_perf,
// alltoall_perf; github.com/NVIDIA/nccl-tests): the column header names the columns (old logs have no "root"
// column), "#  Rank N ... on HOST device D [...] GPU" lines give the ranks, the nodes and the GPU, and each data
// row gives the buffer size and the out-of-place and in-place times in microseconds.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/collectives.hpp"

namespace bitscale {

struct NcclTestsLog {
  std::string source;
  CollectiveOp op = CollectiveOp::allreduce;
  std::int64_t ranks = 0, nodes = 0;
  std::string gpu;   // as the log names it ("NVIDIA A100-SXM4-80GB"), "" when not shown
  std::string type;  // data type of the rows ("float")
  std::vector<double> bytes, out_of_place_s, in_place_s;  // in_place_s empty when the log has no in-place column

  // The time of each size: the faster of its out-of-place and in-place runs (both time the same collective;
  // the slower one carries the noise of a run, such as a 20% spike at one size).
  std::vector<double> best_seconds() const;
};

// `op` when given; else from the source's file name (all_reduce, all_gather, reduce_scatter, broadcast,
// alltoall) or the command line shown in the log. Throws InputError on an empty, truncated or garbled log,
// naming the line.
NcclTestsLog parse_nccl_tests_log(std::string_view text, const std::string& source,
                                  std::optional<CollectiveOp> op = std::nullopt);

}  // namespace bitscale
