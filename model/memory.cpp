#include "model/memory.hpp"

namespace bitscale {

MemoryUse memory_per_gpu(const Workload& w, const ClusterProfile& c, ComputePrecision compute, StoragePolicy storage,
                         Optimizer optimizer, std::int64_t batch, double comm_buffer_bytes) {
  MemoryUse m;
  m.model_state_bytes = static_cast<double>(w.parameters()) * bytes_per_parameter(storage, optimizer).total();
  m.activation_bytes = static_cast<double>(w.activations()) * static_cast<double>(batch) * element_bytes(compute);
  m.comm_buffer_bytes = comm_buffer_bytes;
  m.reserved_bytes = gib(c.memory_reserved_gib);
  return m;
}

}  // namespace bitscale
