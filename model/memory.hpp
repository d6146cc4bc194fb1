// Memory per GPU for data-parallel training:
//   parameters x bytes_per_parameter(storage, optimizer)          (weights, gradients, master, optimizer state)
// + activations per sample x batch x element_bytes(compute)       (kept for the backward pass)
// + communication buffers: one bucket of gradients in fp32 plus its wire copy, or, for gathered codecs, the
//   wire copies of all p ranks
// + the reserve the profile states (CUDA context, allocator).
#pragma once
#include <cstdint>

#include "model/cluster.hpp"
#include "model/precision.hpp"
#include "model/workload.hpp"

namespace bitscale {

struct MemoryUse {
  double model_state_bytes = 0, activation_bytes = 0, comm_buffer_bytes = 0, reserved_bytes = 0;
  double total() const { return model_state_bytes + activation_bytes + comm_buffer_bytes + reserved_bytes; }
};

MemoryUse memory_per_gpu(const Workload& w, const ClusterProfile& c, ComputePrecision compute, StoragePolicy storage,
                         Optimizer optimizer, std::int64_t batch, double comm_buffer_bytes);

inline double gib(double x) { return x * 1024.0 * 1024.0 * 1024.0; }

}  // namespace bitscale
