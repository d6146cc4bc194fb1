// GEMM timer (see gemm_cuda.hpp): host code over the CUDA runtime, cuBLAS and cuBLASLt.
#include "calibrate/gemm_cuda.hpp"

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "calibrate/cuda_timing.hpp"

namespace bitscale {

namespace {

// xorshift64*: uniform in [-1, 1), enough for operands that must not be zeros or a pattern
struct Uniform {
  std::uint64_t s;
  float next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    const std::uint64_t r = s * 0x2545F4914F6CDD1DULL;
    return static_cast<float>(static_cast<double>(r >> 40) / static_cast<double>(1ULL << 23) - 1.0);
  }
};

std::size_t element_size(ComputePrecision p) { return static_cast<std::size_t>(element_bytes(p)); }

// A device buffer of `count` random elements in the precision's operand type.
void* random_device_buffer(ComputePrecision p, std::size_t count, std::uint64_t seed) {
  Uniform u{seed * 0x9E3779B97F4A7C15ULL + 1};
  const std::size_t bytes = count * element_size(p);
  std::vector<unsigned char> host(bytes);
  for (std::size_t i = 0; i < count; ++i) {
    const float v = u.next();
    switch (p) {
      case ComputePrecision::fp32:
      case ComputePrecision::tf32: std::memcpy(&host[4 * i], &v, 4); break;
      case ComputePrecision::fp16: {
        const __half h = __float2half_rn(v);
        std::memcpy(&host[2 * i], &h, 2);
        break;
      }
      case ComputePrecision::bf16: {
        const __nv_bfloat16 h = __float2bfloat16_rn(v);
        std::memcpy(&host[2 * i], &h, 2);
        break;
      }
      case ComputePrecision::fp8: {
        const __nv_fp8_e4m3 h(v);
        std::memcpy(&host[i], &h, 1);
        break;
      }
    }
  }
  void* d = nullptr;
  BITSCALE_CUDA_CHECK(cudaMalloc(&d, std::max<std::size_t>(bytes, 1)));
  BITSCALE_CUDA_CHECK(cudaMemcpy(d, host.data(), bytes, cudaMemcpyHostToDevice));
  return d;
}

}  // namespace

struct GemmTimer::Impl {
  ComputePrecision precision;
  cublasHandle_t handle = nullptr;
  cublasLtHandle_t lt = nullptr;
  void *a = nullptr, *b = nullptr, *c = nullptr, *workspace = nullptr, *scale = nullptr;
  std::size_t a_count = 0, b_count = 0, c_count = 0;
  static constexpr std::size_t kWorkspace = std::size_t{64} << 20;

  void grow(void*& buffer, std::size_t& have, std::size_t want, std::uint64_t seed, bool output) {
    if (want <= have) return;
    if (buffer != nullptr) cudaFree(buffer);
    buffer = nullptr;
    if (output) {
      const std::size_t bytes = want * (precision == ComputePrecision::fp8 ? 2 : element_size(precision));
      BITSCALE_CUDA_CHECK(cudaMalloc(&buffer, bytes));
      BITSCALE_CUDA_CHECK(cudaMemset(buffer, 0, bytes));
    } else {
      buffer = random_device_buffer(precision, want, seed);
    }
    have = want;
  }

  void run(const GemmShape& s) {
    const int m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
    const float alpha = 1.0f, beta = 0.0f;
    if (precision != ComputePrecision::fp8) {
      cudaDataType_t data = CUDA_R_32F;
      cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
      if (precision == ComputePrecision::tf32) compute = CUBLAS_COMPUTE_32F_FAST_TF32;
      if (precision == ComputePrecision::fp16) data = CUDA_R_16F;
      if (precision == ComputePrecision::bf16) data = CUDA_R_16BF;
      BITSCALE_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, a, data, k, b, data,
                                              k, &beta, c, data, m, compute, CUBLAS_GEMM_DEFAULT));
      return;
    }
    // fp8: cuBLASLt, e4m3 operands (A transposed: the layout fp8 products need), bf16 out, per-tensor scales of 1
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
    BITSCALE_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t t = CUBLAS_OP_T, none = CUBLAS_OP_N;
    BITSCALE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t));
    BITSCALE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &none, sizeof none));
    BITSCALE_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale, sizeof scale));
    BITSCALE_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &scale, sizeof scale));
    BITSCALE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, s.k, s.m, s.k));
    BITSCALE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, s.k, s.n, s.k));
    BITSCALE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, s.m, s.n, s.m));
    cublasLtMatmulPreference_t pref = nullptr;
    BITSCALE_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    const std::size_t ws = kWorkspace;
    BITSCALE_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                                    &ws, sizeof ws));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t h = cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 1, &result, &found);
    cublasStatus_t status = h;
    if (h == CUBLAS_STATUS_SUCCESS && found > 0) {
      status = cublasLtMatmul(lt, op, &alpha, a, la, b, lb, &beta, c, lc, c, lc, &result.algo, workspace, ws, nullptr);
    } else if (h == CUBLAS_STATUS_SUCCESS) {
      status = CUBLAS_STATUS_NOT_SUPPORTED;
    }
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(op);
    if (status != CUBLAS_STATUS_SUCCESS) {
      throw std::runtime_error("cuBLASLt fp8 product " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                               std::to_string(k) + ": " + cublasGetStatusString(status));
    }
  }
};

GemmTimer::GemmTimer(ComputePrecision p) : impl_(std::make_unique<Impl>()) {
  impl_->precision = p;
  BITSCALE_CUBLAS_CHECK(cublasCreate(&impl_->handle));
  BITSCALE_CUBLAS_CHECK(cublasLtCreate(&impl_->lt));
  BITSCALE_CUDA_CHECK(cudaMalloc(&impl_->workspace, Impl::kWorkspace));
  BITSCALE_CUBLAS_CHECK(cublasSetWorkspace(impl_->handle, impl_->workspace, Impl::kWorkspace));
  const float one = 1.0f;
  BITSCALE_CUDA_CHECK(cudaMalloc(&impl_->scale, sizeof one));
  BITSCALE_CUDA_CHECK(cudaMemcpy(impl_->scale, &one, sizeof one, cudaMemcpyHostToDevice));
}

GemmTimer::~GemmTimer() {
  if (!impl_) return;
  for (void* p : {impl_->a, impl_->b, impl_->c, impl_->workspace, impl_->scale}) {
    if (p != nullptr) cudaFree(p);
  }
  if (impl_->handle != nullptr) cublasDestroy(impl_->handle);
  if (impl_->lt != nullptr) cublasLtDestroy(impl_->lt);
}

double GemmTimer::seconds(const GemmShape& shape, int runs) {
  const GemmShape s = padded_gemm(impl_->precision, shape);
  if (s.m < 1 || s.n < 1 || s.k < 1 || s.m > INT32_MAX || s.n > INT32_MAX || s.k > INT32_MAX) {
    throw std::runtime_error("GEMM shape out of range");
  }
  const auto mk = static_cast<std::size_t>(s.m) * static_cast<std::size_t>(s.k);
  const auto kn = static_cast<std::size_t>(s.k) * static_cast<std::size_t>(s.n);
  const auto mn = static_cast<std::size_t>(s.m) * static_cast<std::size_t>(s.n);
  impl_->grow(impl_->a, impl_->a_count, mk, 1, false);
  impl_->grow(impl_->b, impl_->b_count, kn, 2, false);
  impl_->grow(impl_->c, impl_->c_count, mn, 3, true);
  const double seconds = median_event_seconds(runs, [&] { impl_->run(s); });
  BITSCALE_CUDA_CHECK(cudaGetLastError());
  return seconds;
}

}  // namespace bitscale
