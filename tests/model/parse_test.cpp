#include "model/parse.hpp"

#include <gtest/gtest.h>

#include "kernels/input_error.hpp"

namespace bitscale {
namespace {

TEST(Parse, DoublingRanges) {
  const auto v = parse_int_list("--gpus", "1,2,4..1024", 1, kMaxGpus);
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(v.front(), 1);
  EXPECT_EQ(v[2], 4);
  EXPECT_EQ(v[3], 8);
  EXPECT_EQ(v.back(), 1024);
  // a range that does not land on its end stops below it: 3, 6, 12, 24, 48, 96
  const auto w = parse_int_list("--gpus", "3..100", 1, kMaxGpus);
  EXPECT_EQ(w, (std::vector<std::int64_t>{3, 6, 12, 24, 48, 96}));
  EXPECT_EQ(parse_int_list("--gpus", " 8 , 16 ", 1, 100), (std::vector<std::int64_t>{8, 16}));
}

TEST(Parse, IntegersRejectWhatIsNotOne) {
  for (const char* bad : {"0", "-1", "1.5", "abc", "", "1e3", "16777217", "99999999999999999999", "4x", "..", "8..4",
                          "0..8", "1,,2"}) {
    EXPECT_THROW(parse_int_list("--gpus", bad, 1, kMaxGpus), InputError) << bad;
  }
  try {
    parse_int("--gpus", "0", 1, kMaxGpus);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "--gpus");
    EXPECT_EQ(e.value(), "0");
    EXPECT_NE(e.rule().find("between 1 and"), std::string::npos);
  }
}

TEST(Parse, PositiveNumbers) {
  EXPECT_DOUBLE_EQ(parse_positive("--bandwidth-gbps", "100", 1e6), 100);
  EXPECT_DOUBLE_EQ(parse_positive("--bandwidth-gbps", "1e-6", 1e6), 1e-6);
  for (const char* bad : {"0", "-5", "nan", "NaN", "inf", "-inf", "1e308", "x", "", "5 Gb"}) {
    EXPECT_THROW(parse_positive("--bandwidth-gbps", bad, 1e6), InputError) << bad;
  }
  try {
    parse_positive("--bandwidth-gbps", "nan", 1e6);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
}

TEST(Parse, Sizes) {
  EXPECT_DOUBLE_EQ(parse_bytes("--bucket", "25MiB", 1e12), 25.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_bytes("--bucket", "1GB", 1e12), 1e9);
  EXPECT_DOUBLE_EQ(parse_bytes("--bucket", "64KiB", 1e12), 65536);
  EXPECT_DOUBLE_EQ(parse_bytes("--bucket", "4096", 1e12), 4096);
  EXPECT_DOUBLE_EQ(parse_bytes("--bucket", "1.5KB", 1e12), 1500);
  for (const char* bad : {"0", "-1MiB", "25XB", "MiB", "nan", "1e13", "2TB"}) {
    EXPECT_THROW(parse_bytes("--bucket", bad, 1e12), InputError) << bad;
  }
}

}  // namespace
}  // namespace bitscale
