// Wire formats: bytes on the wire worked out by hand from each format's definition.
#include "kernels/wire_format.hpp"

#include <gtest/gtest.h>

#include "kernels/cuda_device.hpp"
#include "kernels/input_error.hpp"

namespace bitscale {
namespace {

TEST(WireFormat, BytesPerValueByHand) {
  // 1,000,000 values: fp32 4 B each, fp16/bf16 2 B each
  EXPECT_DOUBLE_EQ(find_wire_format("fp32").wire_bytes(1e6), 4e6);
  EXPECT_DOUBLE_EQ(find_wire_format("fp16").wire_bytes(1e6), 2e6);
  EXPECT_DOUBLE_EQ(find_wire_format("bf16").wire_bytes(1e6), 2e6);
  // fp8 with APS: 1 B per value plus one fp32 scale per bucket
  EXPECT_DOUBLE_EQ(find_wire_format("fp8-e4m3").wire_bytes(1e6), 1e6 + 4);
  EXPECT_DOUBLE_EQ(find_wire_format("fp8-e5m2").wire_bytes(1e6), 1e6 + 4);
  // int8-block: 1 B per value plus 4 B per block of 256: ceil(1e6/256) = 3907 blocks
  EXPECT_DOUBLE_EQ(find_wire_format("int8-block").wire_bytes(1e6), 1e6 + 3907 * 4);
  EXPECT_DOUBLE_EQ(find_wire_format("dettmers8").wire_bytes(256), 256 + 4);
  // 8 + 32/256 bits per value
  EXPECT_DOUBLE_EQ(find_wire_format("int8-block").bits_per_value(), 8.125);
}

TEST(WireFormat, SummableOrGathered) {
  EXPECT_TRUE(find_wire_format("fp16").summable);
  EXPECT_TRUE(find_wire_format("fp8-e4m3").summable);
  EXPECT_TRUE(find_wire_format("fp8-e4m3").aps);
  EXPECT_FALSE(find_wire_format("fp16").aps);
  EXPECT_FALSE(find_wire_format("int8-block").summable);
  EXPECT_FALSE(find_wire_format("dettmers8").summable);
}

TEST(WireFormat, CustomFloats) {
  const auto e5m2 = find_wire_format("e5m2");
  EXPECT_EQ(e5m2.exponent_bits, 5);
  EXPECT_EQ(e5m2.mantissa_bits, 2);
  EXPECT_DOUBLE_EQ(e5m2.value_bits, 8);
  EXPECT_TRUE(e5m2.aps);
  // values occupy whole bytes: sign + 4 + 10 = 15 bits -> 2 bytes; sign + 2 + 2 = 5 bits -> 1 byte
  EXPECT_DOUBLE_EQ(find_wire_format("e4m10").value_bits, 16);
  EXPECT_DOUBLE_EQ(find_wire_format("e2m2").value_bits, 8);
  EXPECT_DOUBLE_EQ(find_wire_format("e8m23").value_bits, 32);
  EXPECT_DOUBLE_EQ(find_wire_format("e8m16").value_bits, 32);  // 25 bits -> 4 bytes
  // 8 values x 2 bytes, plus the 4-byte scale
  EXPECT_DOUBLE_EQ(find_wire_format("e4m10").wire_bytes(8), 16 + 4);
}

TEST(WireFormat, BadNamesListTheValidOnes) {
  for (const char* bad : {"fp7", "e5m", "em2", "", "FP16", "e5m2x"}) {
    try {
      find_wire_format(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "--precision");
      EXPECT_EQ(e.value(), bad);
      EXPECT_NE(e.rule().find("valid: fp32, fp16, bf16, fp8-e4m3, fp8-e5m2, int8-block, dettmers8"), std::string::npos)
          << e.what();
    }
  }
  for (const char* out_of_range : {"e9m2", "e0m3", "e5m24"}) {
    try {
      find_wire_format(out_of_range);
      ADD_FAILURE() << "accepted " << out_of_range;
    } catch (const InputError& e) {
      EXPECT_NE(e.rule().find("1 <= X <= 8"), std::string::npos) << e.what();
    }
  }
}

TEST(CudaDevice, AnswersInEveryBuild) {
  // true only where a device answers; never throws
  if (!cuda_available()) {
    EXPECT_TRUE(cuda_device_name().empty());
    GTEST_SKIP() << "no CUDA device";
  }
  EXPECT_TRUE(cuda_compiled());
  EXPECT_FALSE(cuda_device_name().empty());
}

}  // namespace
}  // namespace bitscale
