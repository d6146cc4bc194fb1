// Gradient dumps as users have them: raw little-endian fp32, or a .npy file of float32 (NumPy format 1.0-3.0,
// as saved by numpy.save or torch tensors' .numpy()). Wire files are raw bytes.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace bitscale {

// By content: a file starting with the .npy magic is parsed as .npy, anything else as raw fp32.
std::vector<float> read_gradients(const std::string& path, const std::string& field);
// .npy (shape (n,)) when the path ends in ".npy", raw fp32 otherwise; atomically.
void write_gradients(const std::string& path, const std::vector<float>& values, const std::string& field);

std::vector<std::byte> read_binary(const std::string& path, const std::string& field);

}  // namespace bitscale
