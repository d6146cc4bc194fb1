// Precision policy: the compute precision of the math, the storage policy of weights and optimizer state, and
// the optimizer. (The gradient wire format is kernels/wire_format.hpp.)
//
// Bytes per parameter by storage policy (weights + gradients + master copy + optimizer state per moment):
//   fp32          4 + 4 + 0 + 4/moment
//   amp           2 + 2 + 4 + 4/moment   fp16/bf16 weights and gradients, fp32 master (Micikevicius et al.,
//                                        arXiv 1710.03740; 16 bytes/param with Adam as in ZeRO, arXiv 1910.02054)
//   standalone16  2 + 2 + 0 + 2/moment   16-bit everything, no master copy (arXiv 2305.10947, 1911.07384)
//   fp8           1 + 1 + 2 + 1 (first moment) / 2 (second moment), after FP8-LM (arXiv 2310.18313)
// Moments: sgd 0, momentum 1, adam 2.
#pragma once
#include <array>
#include <string>
#include <string_view>

namespace bitscale {

enum class ComputePrecision { fp32, tf32, fp16, bf16, fp8 };
inline constexpr int kComputePrecisionCount = 5;
enum class StoragePolicy { fp32, amp, standalone16, fp8 };
enum class Optimizer { sgd, momentum, adam };

std::string_view name(ComputePrecision p);
std::string_view name(StoragePolicy s);
std::string_view name(Optimizer o);

ComputePrecision parse_compute_precision(std::string_view text, std::string_view field = "--compute");
StoragePolicy parse_storage_policy(std::string_view text, std::string_view field = "--storage");
Optimizer parse_optimizer(std::string_view text, std::string_view field = "--optimizer");

// Bytes of one activation or weight element as the math reads it (tf32 is stored as fp32).
double element_bytes(ComputePrecision p);

// The storage policy that goes with a compute precision when the user names none.
StoragePolicy default_storage(ComputePrecision p);

struct BytesPerParameter {
  double weights = 0, gradients = 0, master = 0, optimizer_state = 0;
  double total() const { return weights + gradients + master + optimizer_state; }
};
BytesPerParameter bytes_per_parameter(StoragePolicy s, Optimizer o);

}  // namespace bitscale
