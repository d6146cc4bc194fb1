// Build without nvcc: the GEMM timer exists and says it was not built.
#include <stdexcept>

#include "calibrate/gemm_cuda.hpp"

namespace bitscale {

struct GemmTimer::Impl {};
GemmTimer::GemmTimer(ComputePrecision) { throw std::runtime_error("bitscale was built without CUDA (nvcc not found)"); }
GemmTimer::~GemmTimer() = default;
double GemmTimer::seconds(const GemmShape&, int) { throw std::runtime_error("bitscale was built without CUDA"); }

}  // namespace bitscale
