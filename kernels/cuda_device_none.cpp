// Build without nvcc: no CUDA device can be used.
#include "kernels/cuda_device.hpp"

namespace bitscale {

bool cuda_compiled() { return false; }
bool cuda_available() { return false; }
std::string cuda_device_name() { return {}; }

}  // namespace bitscale
