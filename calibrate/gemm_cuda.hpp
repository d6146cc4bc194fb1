// Matrix-product rates on the GPU through cuBLAS (fp32, tf32, fp16, bf16) and cuBLASLt (fp8 e4m3 operands, bf16
// out), on random operands, timed with CUDA events: what a GPU's linear and conv layers (as im2col products,
// model/compute.hpp layer_gemms) reach per compute precision. Compiled whenever nvcc is found; without it every
// function throws std::runtime_error.
#pragma once
#include <memory>

#include "model/compute.hpp"
#include "model/precision.hpp"

namespace bitscale {

// Times C[m x n] = A^T B with A stored k x m and B k x n, column-major (the layout in which PyTorch's linear calls
// cuBLAS), accumulating in fp32. The operands are uniform random in [-1, 1), drawn once per buffer size; the
// buffers grow to the largest product asked for. fp8 needs m, n and k multiples of 16: each is rounded up (as a
// padded fp8 layer would be) and the time is that of the padded product.
class GemmTimer {
 public:
  explicit GemmTimer(ComputePrecision p);
  ~GemmTimer();
  GemmTimer(const GemmTimer&) = delete;
  GemmTimer& operator=(const GemmTimer&) = delete;
  // Median seconds of `runs` products after 3 warm-up products.
  double seconds(const GemmShape& s, int runs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The shape as timed in precision p (fp8: each dimension rounded up to a multiple of 16).
inline GemmShape padded_gemm(ComputePrecision p, const GemmShape& s) {
  if (p != ComputePrecision::fp8) return s;
  auto up = [](std::int64_t v) { return (v + 15) / 16 * 16; };
  return {up(s.m), up(s.n), up(s.k)};
}

}  // namespace bitscale
