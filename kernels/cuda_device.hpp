// Whether a CUDA device can be used. Exists in every build: false when the project was built without nvcc
// or when no device (or driver) is present at run time.
#pragma once
#include <cstddef>
#include <string>

namespace bitscale {

bool cuda_compiled();       // built with nvcc
bool cuda_available();      // built with nvcc and at least one device answers
std::string cuda_device_name();  // "" when !cuda_available()

// Device memory for callers without CUDA headers (tests, tools); throw std::runtime_error on failure.
void* cuda_malloc(std::size_t bytes);
void cuda_free(void* p);

}  // namespace bitscale
