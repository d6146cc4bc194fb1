// CUDA build of cuda_device.hpp: asks the runtime for devices; a missing driver counts as "no device".
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

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

void* cuda_malloc(std::size_t bytes) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err != cudaSuccess) throw std::runtime_error(std::string("cudaMalloc: ") + cudaGetErrorString(err));
  return p;
}

void cuda_free(void* p) { cudaFree(p); }

std::string cuda_device_name() {
  if (!cuda_available()) return {};
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return {};
  return prop.name;
}

}  // namespace bitscale
