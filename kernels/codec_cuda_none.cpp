// Build without nvcc: the CUDA codecs exist and say so when called.
#include <stdexcept>

#include "kernels/codec_cuda.hpp"

namespace bitscale {

namespace {
[[noreturn]] void no_cuda() { throw std::runtime_error("bitscale was built without CUDA (nvcc not found)"); }
}  // namespace

void encode_cuda_device(const WireFormat&, const float*, std::size_t, std::byte*, const CodecOptions&) { no_cuda(); }
void decode_cuda_device(const WireFormat&, const std::byte*, std::size_t, float*, bool) { no_cuda(); }
void encode_error_feedback_cuda_device(const WireFormat&, const float*, float*, std::size_t, std::byte*,
                                       const CodecOptions&) {
  no_cuda();
}
std::vector<std::byte> encode_cuda(const WireFormat&, std::span<const float>, const CodecOptions&) { no_cuda(); }
std::vector<float> decode_cuda(const WireFormat&, std::span<const std::byte>) { no_cuda(); }
std::vector<float> decode_accumulate_cuda(const WireFormat&, std::span<const std::byte>, std::span<const float>) {
  no_cuda();
}
std::vector<std::byte> encode_error_feedback_cuda(const WireFormat&, std::span<const float>, std::span<float>,
                                                  const CodecOptions&) {
  no_cuda();
}
CudaCodecTiming time_codec_cuda(const WireFormat&, std::span<const float>, int) { no_cuda(); }

}  // namespace bitscale
