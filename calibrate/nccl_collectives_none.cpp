// Build without nvcc: the NCCL backend exists and says it was not built.
#include <stdexcept>

#include "calibrate/nccl_collectives.hpp"

namespace bitscale {

namespace {
[[noreturn]] void no_nccl() { throw std::runtime_error("bitscale was built without CUDA and NCCL (nvcc not found)"); }
}  // namespace

bool nccl_compiled() { return false; }
std::string nccl_select_device() { no_nccl(); }
std::vector<MpiTiming> time_nccl_collectives(const std::vector<CollectiveOp>&, const std::vector<std::string>&,
                                             const std::vector<double>&, int, int, const SeriesHooks&) {
  no_nccl();
}
double cublas_gemm_flops(ComputePrecision, int, int) { no_nccl(); }
double device_copy_bytes_per_s(std::size_t, int) { no_nccl(); }
double device_memory_gib() { no_nccl(); }

}  // namespace bitscale
