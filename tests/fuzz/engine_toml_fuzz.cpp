// libFuzzer entry for bitscale::fuzz::engine_toml (tests/fuzz/targets.hpp).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bitscale::fuzz::engine_toml(data, size);
  return 0;
}
