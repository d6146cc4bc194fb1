// CUDA build of cuda_device.hpp: asks the runtime for devices; a missing driver counts as "no device".
#include <cuda_runtime.h>

#include "kernels/cuda_device.hpp"

namespace bitscale {

bool cuda_compiled() { return true; }

bool cuda_available() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error so later calls start clean
    return false;
  }
  return count > 0;
}

std::string cuda_device_name() {
  if (!cuda_available()) return {};
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return {};
  return prop.name;
}

}  // namespace bitscale
