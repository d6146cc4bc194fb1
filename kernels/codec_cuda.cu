// CUDA codecs (see codec_cuda.hpp): kernels over the shared per-value arithmetic.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/block_codec.hpp"
#include "kernels/codec_cuda.hpp"
#include "kernels/cuda_device.hpp"
#include "kernels/minifloat.hpp"

#define BITSCALE_CUDA_CHECK(call)                                                                        \
  do {                                                                                                   \
    const cudaError_t err_ = (call);                                                                     \
    if (err_ != cudaSuccess) {                                                                           \
      throw std::runtime_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #call ": " + \
                               cudaGetErrorString(err_));                                                \
    }                                                                                                    \
  } while (0)

namespace bitscale {

namespace {

constexpr int kThreads = 256;
constexpr std::size_t kBlock = 256;

__constant__ float c_sorted[128];
__constant__ unsigned char c_code_of[128];
__constant__ float c_magnitude[128];

int grid_for(std::size_t work_items) {
  static const int sms = [] {
    int device = 0, count = 0;
    if (cudaGetDevice(&device) != cudaSuccess) return 80;
    if (cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) return 80;
    return count;
  }();
  const std::size_t wanted = (work_items + kThreads - 1) / kThreads;
  return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(wanted, static_cast<std::size_t>(sms) * 8)));
}

void require_device() {
  if (!cuda_available()) throw std::runtime_error("no CUDA device");
}

// __constant__ memory belongs to a device's context: upload the code book once per device
void upload_dettmers8_book() {
  static std::mutex mutex;
  static std::set<int> uploaded;
  int device = 0;
  BITSCALE_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard<std::mutex> lock(mutex);
  if (uploaded.count(device) != 0) return;
  const auto& b = dettmers8_book();
  BITSCALE_CUDA_CHECK(cudaMemcpyToSymbol(c_sorted, b.sorted.data(), sizeof(float) * 128));
  BITSCALE_CUDA_CHECK(cudaMemcpyToSymbol(c_code_of, b.code_of.data(), 128));
  BITSCALE_CUDA_CHECK(cudaMemcpyToSymbol(c_magnitude, b.magnitude.data(), sizeof(float) * 128));
  uploaded.insert(device);
}

// The kernels read fp32 as float4 and codes as 16- or 4-byte words: the buffers must be aligned for that.
void require_aligned(const void* p, std::size_t alignment, const char* what) {
  if (p != nullptr && reinterpret_cast<std::uintptr_t>(p) % alignment != 0) {
    throw std::invalid_argument(std::string("CUDA codec: ") + what + " must be " + std::to_string(alignment) +
                                "-byte aligned");
  }
}

// ---- max |x| over finite values (APS) ---------------------------------------------------------------------

__global__ void max_abs_kernel(const float* a, const float* b, std::size_t n, unsigned int* out) {
  float m = 0.0f;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float v = fabsf(b != nullptr ? add_canonical(a[i], b[i]) : a[i]);
    if (v <= 3.4028235e38f && v > m) m = v;
  }
  for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, offset));
  if ((threadIdx.x & 31) == 0) atomicMax(out, __float_as_uint(m));  // non-negative floats order as integers
}

float device_max_abs(const float* a, const float* b, std::size_t n) {
  unsigned int* d = nullptr;
  BITSCALE_CUDA_CHECK(cudaMalloc(&d, sizeof(unsigned int)));
  BITSCALE_CUDA_CHECK(cudaMemset(d, 0, sizeof(unsigned int)));
  max_abs_kernel<<<grid_for(n), kThreads>>>(a, b, n, d);
  BITSCALE_CUDA_CHECK(cudaGetLastError());
  unsigned int bits = 0;
  BITSCALE_CUDA_CHECK(cudaMemcpy(&bits, d, sizeof bits, cudaMemcpyDeviceToHost));
  BITSCALE_CUDA_CHECK(cudaFree(d));
  float m;
  std::memcpy(&m, &bits, sizeof m);
  return m;
}

// ---- minifloat formats ----------------------------------------------------------------------------------

struct MiniParams {
  MiniFloat f;
  float scale;    // 2^k (APS) or 1
  float unscale;  // 2^-k
  bool stochastic;
  unsigned long long seed;
  bool aligned16;  // codes start 16-byte aligned
  unsigned char* scale_out;        // encode with APS: where the scale goes (wire[0..3]), written by one thread
  const unsigned char* scale_in;   // decode with APS: the wire's scale; unscale = 1 / scale (exact: a power of 2)
};

__device__ __forceinline__ void put_code(unsigned char* p, std::uint32_t code, int bytes) {
  for (int b = 0; b < bytes; ++b) p[b] = static_cast<unsigned char>(code >> (8 * b));
}
__device__ __forceinline__ std::uint32_t get_code(const unsigned char* p, int bytes) {
  std::uint32_t c = 0;
  for (int b = 0; b < bytes; ++b) c |= static_cast<std::uint32_t>(p[b]) << (8 * b);
  return c;
}

// The 4 codes of one float4 (4 x CB bytes) as CB little-endian words, and back. Every index is a compile-time
// constant once unrolled, so the words stay in registers (a byte pointer into a register array would put the
// array in local memory).
template <int CB>
__device__ __forceinline__ void pack4(const std::uint32_t (&code)[4], std::uint32_t (&words)[CB]) {
#pragma unroll
  for (int w = 0; w < CB; ++w) words[w] = 0;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
#pragma unroll
    for (int b = 0; b < CB; ++b) {
      const int byte = j * CB + b;
      words[byte / 4] |= ((code[j] >> (8 * b)) & 0xFFu) << (8 * (byte % 4));
    }
  }
}
template <int CB>
__device__ __forceinline__ std::uint32_t unpack4(const std::uint32_t (&words)[CB], int j) {
  std::uint32_t c = 0;
#pragma unroll
  for (int b = 0; b < CB; ++b) {
    const int byte = j * CB + b;
    c |= ((words[byte / 4] >> (8 * (byte % 4))) & 0xFFu) << (8 * b);
  }
  return c;
}
// The codes of float4 number k live at codes + 4 k CB: 4-byte aligned always (APS wires put a 4-byte scale first),
// 4 k CB-aligned too when the codes start 16-byte aligned (`aligned16`): then one 8- or 16-byte access.
template <int CB>
__device__ __forceinline__ void store4(unsigned char* dst, const std::uint32_t (&w)[CB], bool aligned16) {
  if (CB == 4 && aligned16) {
    *reinterpret_cast<uint4*>(dst) = make_uint4(w[0], w[CB > 1 ? 1 : 0], w[CB > 2 ? 2 : 0], w[CB > 3 ? 3 : 0]);
  } else if (CB == 2 && aligned16) {
    *reinterpret_cast<uint2*>(dst) = make_uint2(w[0], w[CB > 1 ? 1 : 0]);
  } else {
#pragma unroll
    for (int i = 0; i < CB; ++i) reinterpret_cast<std::uint32_t*>(dst)[i] = w[i];
  }
}
template <int CB>
__device__ __forceinline__ void load4(const unsigned char* src, std::uint32_t (&w)[CB], bool aligned16) {
  if (CB == 4 && aligned16) {
    const uint4 q = *reinterpret_cast<const uint4*>(src);
    const std::uint32_t v[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
    for (int i = 0; i < CB; ++i) w[i] = v[i];
  } else if (CB == 2 && aligned16) {
    const uint2 q = *reinterpret_cast<const uint2*>(src);
    const std::uint32_t v[2] = {q.x, q.y};
#pragma unroll
    for (int i = 0; i < CB; ++i) w[i] = v[i % 2];
  } else {
#pragma unroll
    for (int i = 0; i < CB; ++i) w[i] = reinterpret_cast<const std::uint32_t*>(src)[i];
  }
}

// Each thread takes float4 number k = tid, tid + stride, ... four at a time, their loads issued before any use:
// every warp-wide load reads 512 contiguous bytes and every warp-wide store writes 32 x 4 CB contiguous bytes.
// Optionally also the residual of error feedback. The last n % 4 values go one per thread.
template <int CB>
__global__ void minifloat_encode_kernel(const float* in, const float* residual_in, float* residual_out, std::size_t n,
                                        unsigned char* codes, MiniParams p) {
  if (p.scale_out != nullptr && blockIdx.x == 0 && threadIdx.x == 0) *reinterpret_cast<float*>(p.scale_out) = p.scale;
  const std::size_t n4 = n / 4;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  const std::size_t tid = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const float4* in4 = reinterpret_cast<const float4*>(in);
  const float4* res4 = reinterpret_cast<const float4*>(residual_in);
  for (std::size_t k0 = tid; k0 < n4; k0 += 4 * stride) {
    float4 x[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const std::size_t k = k0 + u * stride;
      if (k < n4) x[u] = in4[k];
    }
    if (residual_in != nullptr) {
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        const std::size_t k = k0 + u * stride;
        if (k < n4) {
          const float4 r = res4[k];
          x[u] = make_float4(add_canonical(x[u].x, r.x), add_canonical(x[u].y, r.y), add_canonical(x[u].z, r.z),
                             add_canonical(x[u].w, r.w));
        }
      }
    }
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const std::size_t k = k0 + u * stride;
      if (k >= n4) break;
      const float v[4] = {x[u].x, x[u].y, x[u].z, x[u].w};
      std::uint32_t code[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const std::uint32_t r = p.stochastic ? random_bits(p.seed, 4 * k + j) : 0u;
        code[j] = minifloat_encode(scale_keep_nan(v[j], p.scale), p.f, p.stochastic, r);
        if (residual_out != nullptr) {
          residual_out[4 * k + j] = sub_canonical(v[j], scale_keep_nan(minifloat_decode(code[j], p.f), p.unscale));
        }
      }
      std::uint32_t words[CB];
      pack4<CB>(code, words);
      store4<CB>(codes + 4 * k * CB, words, p.aligned16);
    }
  }
  // the last n % 4 values, one per thread
  if (tid < n - 4 * n4) {
    const std::size_t i = 4 * n4 + tid;
    float x = in[i];  // (adding a zero residual would turn -0 into +0)
    if (residual_in != nullptr) x = add_canonical(x, residual_in[i]);
    const std::uint32_t r = p.stochastic ? random_bits(p.seed, i) : 0u;
    const std::uint32_t code = minifloat_encode(scale_keep_nan(x, p.scale), p.f, p.stochastic, r);
    put_code(codes + i * CB, code, CB);
    if (residual_out != nullptr) residual_out[i] = sub_canonical(x, scale_keep_nan(minifloat_decode(code, p.f), p.unscale));
  }
}

// The decode in the encode's layout: codes of four float4 per thread loaded first, float4 outputs (and, to
// accumulate into, float4 inputs) coalesced across the warp.
template <int CB>
__global__ void minifloat_decode_kernel(const unsigned char* codes, std::size_t n, float* out, bool accumulate,
                                        MiniParams p) {
  if (p.scale_in != nullptr) p.unscale = 1.0f / *reinterpret_cast<const float*>(p.scale_in);
  const std::size_t n4 = n / 4;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  const std::size_t tid = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  float4* out4 = reinterpret_cast<float4*>(out);
  for (std::size_t k0 = tid; k0 < n4; k0 += 4 * stride) {
    std::uint32_t w[4][CB];
    float4 a[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const std::size_t k = k0 + u * stride;
      if (k < n4) {
        load4<CB>(codes + 4 * k * CB, w[u], p.aligned16);
        if (accumulate) a[u] = out4[k];
      }
    }
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const std::size_t k = k0 + u * stride;
      if (k >= n4) break;
      float4 y;
      y.x = scale_keep_nan(minifloat_decode(unpack4<CB>(w[u], 0), p.f), p.unscale);
      y.y = scale_keep_nan(minifloat_decode(unpack4<CB>(w[u], 1), p.f), p.unscale);
      y.z = scale_keep_nan(minifloat_decode(unpack4<CB>(w[u], 2), p.f), p.unscale);
      y.w = scale_keep_nan(minifloat_decode(unpack4<CB>(w[u], 3), p.f), p.unscale);
      if (accumulate) {
        y = make_float4(add_canonical(a[u].x, y.x), add_canonical(a[u].y, y.y), add_canonical(a[u].z, y.z),
                        add_canonical(a[u].w, y.w));
      }
      out4[k] = y;
    }
  }
  if (tid < n - 4 * n4) {
    const std::size_t i = 4 * n4 + tid;
    const float v = scale_keep_nan(minifloat_decode(get_code(codes + i * CB, CB), p.f), p.unscale);
    out[i] = accumulate ? add_canonical(out[i], v) : v;
  }
}

MiniParams mini_params(const WireFormat& f, int k, const CodecOptions& o) {
  MiniParams p;
  p.f = f.minifloat;
  p.scale = scale_pow2(1.0f, k);
  p.unscale = scale_pow2(1.0f, -k);
  p.stochastic = o.rounding == Rounding::stochastic;
  p.seed = o.seed;
  p.aligned16 = !f.aps;
  p.scale_out = nullptr;
  p.scale_in = nullptr;
  return p;
}

// a thread per four float4 (16 values), and at least the threads the last n % 4 values need
int launch_size(std::size_t n) { return grid_for(std::max<std::size_t>(n / 16, std::min<std::size_t>(n, 4))); }

// ---- block formats: one warp per block of 256 values, 8 values per lane (block_lane_value) ---------------------

template <bool kDettmers>
__global__ void block_encode_kernel(const float* in, const float* residual_in, float* residual_out, std::size_t n,
                                    unsigned char* wire) {
  const int lane = threadIdx.x & 31;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / 32);
  const std::size_t nblocks = (n + kBlock - 1) / kBlock;
  // the code book in shared memory: the lanes' searches read different entries, which __constant__ memory
  // would serve one address at a time
  __shared__ float s_sorted[128];
  __shared__ unsigned char s_code_of[128];
  if (kDettmers) {
    for (int i = threadIdx.x; i < 128; i += blockDim.x) {
      s_sorted[i] = c_sorted[i];
      s_code_of[i] = c_code_of[i];
    }
    __syncthreads();
  }
  for (std::size_t b = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32; b < nblocks;
       b += warps) {
    const std::size_t start = b * kBlock;
    const int len = static_cast<int>(min(kBlock, n - start));
    const float* src = in + start;
    float v[8];
    if (len == kBlock) {  // float4 number lane and 32 + lane of the block: values 4 lane.. and 128 + 4 lane..
      const float4 x0 = reinterpret_cast<const float4*>(src)[lane];
      const float4 x1 = reinterpret_cast<const float4*>(src)[32 + lane];
      v[0] = x0.x, v[1] = x0.y, v[2] = x0.z, v[3] = x0.w, v[4] = x1.x, v[5] = x1.y, v[6] = x1.z, v[7] = x1.w;
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int i = block_lane_value(lane, j);
        v[j] = i < len ? src[i] : 0.0f;
      }
    }
    if (residual_in != nullptr) {
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int i = block_lane_value(lane, j);
        if (i < len) v[j] = add_canonical(v[j], residual_in[start + i]);
      }
    }
    float m = 0.0f;
    bool bad = false;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const float a = fabsf(v[j]);
      bad = bad || !(a <= 3.4028235e38f);
      m = a > m ? a : m;
    }
    for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, offset));
    bad = __any_sync(0xFFFFFFFFu, bad);
    const float scale = block_scale(m, bad);
    unsigned char* out = wire + b * (kBlock + 4);
    if (lane == 0) *reinterpret_cast<float*>(out) = scale;
    // words[0]: the codes of values 4 lane..4 lane + 3, words[1]: of 128 + 4 lane.., each in value order
    std::uint32_t words[2] = {0, 0};
    unsigned char* codes = reinterpret_cast<unsigned char*>(words);
    const float reciprocal = 1.0f / scale;  // correctly rounded (nvcc's default -prec-div=true)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      codes[j] = kDettmers ? dettmers8_encode(v[j], scale, s_sorted, s_code_of)
                           : int8_encode_reciprocal(v[j], scale, reciprocal);
      const int i = block_lane_value(lane, j);
      if (residual_out != nullptr && i < len) {
        const float back = kDettmers ? dettmers8_decode(codes[j], scale, c_magnitude) : int8_decode(codes[j], scale);
        residual_out[start + i] = sub_canonical(v[j], back);
      }
    }
    if (len == kBlock) {  // code bytes 4 lane.. and 128 + 4 lane..: 32-bit words lane and 32 + lane
      reinterpret_cast<std::uint32_t*>(out + 4)[lane] = words[0];
      reinterpret_cast<std::uint32_t*>(out + 4)[32 + lane] = words[1];
    } else {
      for (int j = 0; j < 8; ++j) {
        const int i = block_lane_value(lane, j);
        if (i < len) out[4 + i] = codes[j];
      }
    }
  }
}

template <bool kDettmers>
__global__ void block_decode_kernel(const unsigned char* wire, std::size_t n, float* out, bool accumulate) {
  const int lane = threadIdx.x & 31;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * (blockDim.x / 32);
  const std::size_t nblocks = (n + kBlock - 1) / kBlock;
  __shared__ float s_magnitude[128];  // as in the encode: the lanes read different entries
  if (kDettmers) {
    for (int i = threadIdx.x; i < 128; i += blockDim.x) s_magnitude[i] = c_magnitude[i];
    __syncthreads();
  }
  for (std::size_t b = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32; b < nblocks;
       b += warps) {
    const std::size_t start = b * kBlock;
    const int len = static_cast<int>(min(kBlock, n - start));
    const unsigned char* in = wire + b * (kBlock + 4);
    const float scale = *reinterpret_cast<const float*>(in);
    float* dst = out + start;
    if (len == kBlock) {  // the encode's layout: code words lane and 32 + lane, float4 number lane and 32 + lane
      std::uint32_t words[2];
      words[0] = reinterpret_cast<const std::uint32_t*>(in + 4)[lane];
      words[1] = reinterpret_cast<const std::uint32_t*>(in + 4)[32 + lane];
      const unsigned char* codes = reinterpret_cast<const unsigned char*>(words);
      float y[8];
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        y[j] = kDettmers ? dettmers8_decode(codes[j], scale, s_magnitude) : int8_decode(codes[j], scale);
      }
      float4* d0 = reinterpret_cast<float4*>(dst) + lane;
      float4* d1 = reinterpret_cast<float4*>(dst) + 32 + lane;
      float4 y0 = make_float4(y[0], y[1], y[2], y[3]), y1 = make_float4(y[4], y[5], y[6], y[7]);
      if (accumulate) {
        const float4 a0 = *d0, a1 = *d1;
        y0 = make_float4(add_canonical(a0.x, y0.x), add_canonical(a0.y, y0.y), add_canonical(a0.z, y0.z),
                         add_canonical(a0.w, y0.w));
        y1 = make_float4(add_canonical(a1.x, y1.x), add_canonical(a1.y, y1.y), add_canonical(a1.z, y1.z),
                         add_canonical(a1.w, y1.w));
      }
      *d0 = y0;
      *d1 = y1;
    } else {
      for (int j = 0; j < 8; ++j) {
        const int i = block_lane_value(lane, j);
        if (i >= len) continue;
        const unsigned char code = in[4 + i];
        const float v = kDettmers ? dettmers8_decode(code, scale, s_magnitude) : int8_decode(code, scale);
        dst[i] = accumulate ? add_canonical(dst[i], v) : v;
      }
    }
  }
}

int block_grid(std::size_t n) { return grid_for(((n + kBlock - 1) / kBlock) * 32); }

int aps_k(const WireFormat& f, const float* in, const float* residual, std::size_t n, const CodecOptions& o) {
  if (!f.aps) return 0;
  const float m = o.global_max_abs ? *o.global_max_abs : device_max_abs(in, residual, n);
  return aps_exponent(m, o.ranks, f.minifloat);
}

void check_alignment(const WireFormat& f, const float* values, const float* residual, const void* wire) {
  require_aligned(values, 16, "the fp32 buffer");
  require_aligned(residual, 16, "the residual");
  require_aligned(wire, f.kind == CodecKind::minifloat && !f.aps ? 16 : 4, "the wire buffer");
}

void encode_any(const WireFormat& f, const float* in, const float* residual_in, float* residual_out, std::size_t n,
                std::byte* wire, const CodecOptions& o) {
  require_device();
  check_alignment(f, in, residual_in, wire);
  auto* w = reinterpret_cast<unsigned char*>(wire);
  if (f.kind == CodecKind::minifloat) {
    const int k = aps_k(f, in, residual_in, n, o);
    auto p = mini_params(f, k, o);
    if (f.aps) p.scale_out = w;
    unsigned char* codes = w + (f.aps ? 4 : 0);
    switch (f.minifloat.code_bytes) {
      case 1: minifloat_encode_kernel<1><<<launch_size(n), kThreads>>>(in, residual_in, residual_out, n, codes, p); break;
      case 2: minifloat_encode_kernel<2><<<launch_size(n), kThreads>>>(in, residual_in, residual_out, n, codes, p); break;
      case 3: minifloat_encode_kernel<3><<<launch_size(n), kThreads>>>(in, residual_in, residual_out, n, codes, p); break;
      case 4: minifloat_encode_kernel<4><<<launch_size(n), kThreads>>>(in, residual_in, residual_out, n, codes, p); break;
      default: throw std::invalid_argument("CUDA codec: codes of 1 to 4 bytes only");
    }
  } else if (f.kind == CodecKind::int8_block) {
    block_encode_kernel<false><<<block_grid(n), kThreads>>>(in, residual_in, residual_out, n, w);
  } else {
    upload_dettmers8_book();
    block_encode_kernel<true><<<block_grid(n), kThreads>>>(in, residual_in, residual_out, n, w);
  }
  BITSCALE_CUDA_CHECK(cudaGetLastError());
}

// ---- host buffers ---------------------------------------------------------------------------------------

template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  explicit DeviceBuffer(std::size_t count) { BITSCALE_CUDA_CHECK(cudaMalloc(&ptr, std::max<std::size_t>(count, 1) * sizeof(T))); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

template <typename T>
void to_device(T* dst, const T* src, std::size_t count) {
  if (count > 0) BITSCALE_CUDA_CHECK(cudaMemcpy(dst, src, count * sizeof(T), cudaMemcpyHostToDevice));
}
template <typename T>
void to_host(T* dst, const T* src, std::size_t count) {
  if (count > 0) BITSCALE_CUDA_CHECK(cudaMemcpy(dst, src, count * sizeof(T), cudaMemcpyDeviceToHost));
}

// The CPU decoder's check of the APS scale, on a host copy of the wire.
void check_host_scale(const WireFormat& f, std::span<const std::byte> wire) {
  if (!f.aps || wire.size() < 4) return;
  float scale;
  std::memcpy(&scale, wire.data(), 4);
  int e = 0;
  if (std::frexp(scale, &e) != 0.5f) throw std::runtime_error("wire: the APS scale is not a power of two");
}

}  // namespace

void encode_cuda_device(const WireFormat& f, const float* in, std::size_t n, std::byte* wire, const CodecOptions& o) {
  encode_any(f, in, nullptr, nullptr, n, wire, o);
}

void encode_error_feedback_cuda_device(const WireFormat& f, const float* grad, float* residual, std::size_t n,
                                       std::byte* wire, const CodecOptions& o) {
  encode_any(f, grad, residual, residual, n, wire, o);
}

void decode_cuda_device(const WireFormat& f, const std::byte* wire, std::size_t n, float* out, bool accumulate) {
  require_device();
  check_alignment(f, out, nullptr, wire);
  const auto* w = reinterpret_cast<const unsigned char*>(wire);
  if (f.kind == CodecKind::minifloat) {
    auto p = mini_params(f, 0, CodecOptions{});
    if (f.aps) p.scale_in = w;  // a power of two, as encode writes it (decode_cuda checks a host wire)
    const unsigned char* codes = w + (f.aps ? 4 : 0);
    switch (f.minifloat.code_bytes) {
      case 1: minifloat_decode_kernel<1><<<launch_size(n), kThreads>>>(codes, n, out, accumulate, p); break;
      case 2: minifloat_decode_kernel<2><<<launch_size(n), kThreads>>>(codes, n, out, accumulate, p); break;
      case 3: minifloat_decode_kernel<3><<<launch_size(n), kThreads>>>(codes, n, out, accumulate, p); break;
      case 4: minifloat_decode_kernel<4><<<launch_size(n), kThreads>>>(codes, n, out, accumulate, p); break;
      default: throw std::invalid_argument("CUDA codec: codes of 1 to 4 bytes only");
    }
  } else if (f.kind == CodecKind::int8_block) {
    block_decode_kernel<false><<<block_grid(n), kThreads>>>(w, n, out, accumulate);
  } else {
    upload_dettmers8_book();
    block_decode_kernel<true><<<block_grid(n), kThreads>>>(w, n, out, accumulate);
  }
  BITSCALE_CUDA_CHECK(cudaGetLastError());
}

std::vector<std::byte> encode_cuda(const WireFormat& f, std::span<const float> in, const CodecOptions& o) {
  require_device();
  const std::size_t bytes = wire_size(f, in.size());
  DeviceBuffer<float> d_in(in.size());
  DeviceBuffer<std::byte> d_wire(bytes);
  to_device(d_in.ptr, in.data(), in.size());
  encode_cuda_device(f, d_in.ptr, in.size(), d_wire.ptr, o);
  BITSCALE_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<std::byte> wire(bytes);
  to_host(wire.data(), d_wire.ptr, bytes);
  return wire;
}

std::vector<float> decode_accumulate_cuda(const WireFormat& f, std::span<const std::byte> wire,
                                          std::span<const float> acc) {
  require_device();
  const std::size_t n = values_in_wire(f, wire.size());
  if (acc.size() != n) throw std::runtime_error("decode_accumulate_cuda: accumulator size differs from the wire");
  DeviceBuffer<std::byte> d_wire(wire.size());
  DeviceBuffer<float> d_out(n);
  to_device(d_wire.ptr, wire.data(), wire.size());
  to_device(d_out.ptr, acc.data(), n);
  check_host_scale(f, wire);
  decode_cuda_device(f, d_wire.ptr, n, d_out.ptr, true);
  BITSCALE_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out(n);
  to_host(out.data(), d_out.ptr, n);
  return out;
}

std::vector<float> decode_cuda(const WireFormat& f, std::span<const std::byte> wire) {
  require_device();
  const std::size_t n = values_in_wire(f, wire.size());
  DeviceBuffer<std::byte> d_wire(wire.size());
  DeviceBuffer<float> d_out(n);
  to_device(d_wire.ptr, wire.data(), wire.size());
  check_host_scale(f, wire);
  decode_cuda_device(f, d_wire.ptr, n, d_out.ptr, false);
  BITSCALE_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out(n);
  to_host(out.data(), d_out.ptr, n);
  return out;
}

std::vector<std::byte> encode_error_feedback_cuda(const WireFormat& f, std::span<const float> grad,
                                                  std::span<float> residual, const CodecOptions& o) {
  require_device();
  if (grad.size() != residual.size()) throw std::runtime_error("gradient and residual differ in size");
  const std::size_t bytes = wire_size(f, grad.size());
  DeviceBuffer<float> d_grad(grad.size()), d_res(grad.size());
  DeviceBuffer<std::byte> d_wire(bytes);
  to_device(d_grad.ptr, grad.data(), grad.size());
  to_device(d_res.ptr, residual.data(), residual.size());
  encode_error_feedback_cuda_device(f, d_grad.ptr, d_res.ptr, grad.size(), d_wire.ptr, o);
  BITSCALE_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<std::byte> wire(bytes);
  to_host(wire.data(), d_wire.ptr, bytes);
  to_host(residual.data(), d_res.ptr, residual.size());
  return wire;
}

CudaCodecTiming time_codec_cuda(const WireFormat& f, std::span<const float> input, int runs) {
  require_device();
  const std::size_t n = input.size();
  const std::size_t bytes = wire_size(f, n);
  DeviceBuffer<float> d_in(n), d_out(n);
  DeviceBuffer<std::byte> d_wire(bytes);
  to_device(d_in.ptr, input.data(), n);
  CodecOptions o;
  // the scalar max-allreduce is timed apart (it is communication, not a kernel): the encode is given the max
  float max_abs = 0;
  for (float v : input) max_abs = std::max(max_abs, std::fabs(v));
  o.global_max_abs = max_abs > 0 ? max_abs : 1.0f;
  cudaEvent_t start, stop;
  BITSCALE_CUDA_CHECK(cudaEventCreate(&start));
  BITSCALE_CUDA_CHECK(cudaEventCreate(&stop));
  auto median_of = [&](auto&& work) {
    std::vector<float> ms;
    for (int r = 0; r < runs + 3; ++r) {
      BITSCALE_CUDA_CHECK(cudaEventRecord(start));
      work();
      BITSCALE_CUDA_CHECK(cudaEventRecord(stop));
      BITSCALE_CUDA_CHECK(cudaEventSynchronize(stop));
      float t = 0;
      BITSCALE_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
      if (r >= 3) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    return static_cast<double>(ms[ms.size() / 2]) * 1e-3;
  };
  CudaCodecTiming t;
  t.encode_s = median_of([&] { encode_cuda_device(f, d_in.ptr, n, d_wire.ptr, o); });
  // the timed encode's wire against the CPU's, byte for byte
  std::vector<std::byte> wire(bytes);
  to_host(wire.data(), d_wire.ptr, bytes);
  const auto expected_wire = encode_cpu(f, input, o);
  t.encode_matches_cpu = wire == expected_wire;
  t.decode_s = median_of([&] { decode_cuda_device(f, d_wire.ptr, n, d_out.ptr, false); });
  std::vector<float> decoded(n);
  to_host(decoded.data(), d_out.ptr, n);
  std::vector<float> expected(n);
  decode_cpu(f, wire, expected);
  t.decode_matches_cpu = std::memcmp(decoded.data(), expected.data(), 4 * n) == 0;
  // decompress-accumulate into the fp32 input: every run adds the decoded values once more (the sum's bits are
  // not checked here; the unit tests check accumulation against the CPU)
  t.accumulate_s = median_of([&] { decode_cuda_device(f, d_wire.ptr, n, d_in.ptr, true); });
  t.copy_s = median_of([&] {
    BITSCALE_CUDA_CHECK(cudaMemcpyAsync(d_out.ptr, d_in.ptr, n * sizeof(float), cudaMemcpyDeviceToDevice));
  });
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return t;
}

}  // namespace bitscale
