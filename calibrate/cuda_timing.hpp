// Shared by the calibration sources compiled against the CUDA toolkit (nccl_collectives.cpp, gemm_cuda.cpp):
// return-code checks that throw std::runtime_error quoting the failing call, and the event-timed median.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#define BITSCALE_CUDA_CHECK(call)                                                                          \
  do {                                                                                                     \
    const cudaError_t err_ = (call);                                                                       \
    if (err_ != cudaSuccess) throw std::runtime_error(std::string(#call ": ") + cudaGetErrorString(err_)); \
  } while (0)
#define BITSCALE_CUBLAS_CHECK(call)                                                                        \
  do {                                                                                                     \
    const cublasStatus_t err_ = (call);                                                                    \
    if (err_ != CUBLAS_STATUS_SUCCESS) {                                                                   \
      throw std::runtime_error(std::string(#call ": ") + cublasGetStatusString(err_));                     \
    }                                                                                                      \
  } while (0)

namespace bitscale {

// Median seconds of `runs` runs of work() on the default stream, timed with CUDA events, after 3 warm-up runs.
template <typename Work>
double median_event_seconds(int runs, Work&& work) {
  cudaEvent_t start, stop;
  BITSCALE_CUDA_CHECK(cudaEventCreate(&start));
  BITSCALE_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> t;
  for (int r = 0; r < runs + 3; ++r) {
    BITSCALE_CUDA_CHECK(cudaEventRecord(start));
    work();
    BITSCALE_CUDA_CHECK(cudaEventRecord(stop));
    BITSCALE_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    BITSCALE_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (r >= 3) t.push_back(ms * 1e-3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace bitscale
