// libFuzzer entry for bitscale::fuzz::cli (tests/fuzz/targets.hpp).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bitscale::fuzz::cli(data, size);
  return 0;
}
