// CUDA codecs: the same bytes as the CPU codecs of codec.hpp (the per-value arithmetic is shared through
// minifloat.hpp and block_codec.hpp; kernels are compiled with --fmad=false so no multiply-add is fused).
// Kernels read fp32 as 16-byte float4 loads, coalesced, in grid-stride loops sized from the device's SM count.
// Codes are stored 16 bytes at a time where the wire layout keeps them 16-byte aligned (fp16, bf16, fp32), and
// in 4-byte words where a 4-byte scale precedes them (APS formats, and each 260-byte block of the block codecs).
// Every function throws std::runtime_error when the build has no CUDA or no device answers.
// NaN is handled explicitly (minifloat.hpp), never left to the hardware, which on NVIDIA GPUs would return
// 0x7FFFFFFF where x86 keeps the operand's NaN.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "kernels/codec.hpp"

namespace bitscale {

// Device pointers, on the default stream, asynchronous (the caller synchronizes). fp32 buffers must be 16-byte
// aligned; the wire 16-byte aligned for fp32/fp16/bf16 and 4-byte aligned otherwise (std::invalid_argument).
// An APS encode without options.global_max_abs computes the max on the device and waits for it.
void encode_cuda_device(const WireFormat& f, const float* in, std::size_t n, std::byte* wire, const CodecOptions& o);
void decode_cuda_device(const WireFormat& f, const std::byte* wire, std::size_t n, float* out, bool accumulate);
void encode_error_feedback_cuda_device(const WireFormat& f, const float* grad, float* residual, std::size_t n,
                                       std::byte* wire, const CodecOptions& o);

// Host buffers in and out (copies to and from the device), for tests and the command line.
std::vector<std::byte> encode_cuda(const WireFormat& f, std::span<const float> in, const CodecOptions& o = {});
std::vector<float> decode_cuda(const WireFormat& f, std::span<const std::byte> wire);
std::vector<float> decode_accumulate_cuda(const WireFormat& f, std::span<const std::byte> wire,
                                          std::span<const float> acc);
// Returns the wire; `residual` is updated in place.
std::vector<std::byte> encode_error_feedback_cuda(const WireFormat& f, std::span<const float> grad,
                                                  std::span<float> residual, const CodecOptions& o = {});

// Kernel times on device buffers of n values, with CUDA events: the median of `runs` runs after 3 warm-up runs.
// copy_s is a device-to-device copy of the n fp32 values (4n bytes read and 4n written).
struct CudaCodecTiming {
  double encode_s = 0, decode_s = 0, copy_s = 0;
};
CudaCodecTiming time_codec_cuda(const WireFormat& f, std::size_t n, int runs);

}  // namespace bitscale
