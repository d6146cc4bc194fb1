// CUDA codecs: the same bytes as the CPU codecs of codec.hpp (the per-value arithmetic is shared through
// minifloat.hpp and block_codec.hpp; kernels are compiled with --fmad=false so no multiply-add is fused).
// Minifloat kernels: each thread takes float4 number k, k + stride, ... four at a time (loads issued first), so
// every warp-wide access is contiguous; the 4 codes of a float4 go out as one 4-, 8- or 16-byte word (4-byte
// words where a 4-byte APS scale precedes the codes). Block codecs: one warp per block of 256 values, 8 per lane;
// the dettmers8 code book sits in shared memory. Grid-stride loops sized from the device's SM count.
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

// Kernel times on `input` copied to the device, with CUDA events: the median of `runs` runs after 3 warm-up runs.
// The encode is given the input's max |x| (an APS format's max-allreduce is communication, timed apart).
// accumulate_s is the decompress-accumulate (wire read, fp32 read and written); copy_s a device-to-device copy
// of the n fp32 values (4n bytes read and 4n written). The timed encode's wire and its decode are compared
// byte for byte with encode_cpu and decode_cpu.
struct CudaCodecTiming {
  double encode_s = 0, decode_s = 0, accumulate_s = 0, copy_s = 0;
  bool encode_matches_cpu = false, decode_matches_cpu = false;
};
CudaCodecTiming time_codec_cuda(const WireFormat& f, std::span<const float> input, int runs);

}  // namespace bitscale
