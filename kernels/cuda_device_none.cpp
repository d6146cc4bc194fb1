// Build without nvcc: no CUDA device can be used.
#include <stdexcept>

#include "kernels/cuda_device.hpp"

namespace bitscale {

bool cuda_compiled() { return false; }
bool cuda_available() { return false; }
std::string cuda_device_name() { return {}; }
void* cuda_malloc(std::size_t) { throw std::runtime_error("bitscale was built without CUDA"); }
void cuda_free(void*) {}

}  // namespace bitscale
