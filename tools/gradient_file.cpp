#include "tools/gradient_file.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "kernels/input_error.hpp"
#include "tools/report.hpp"

namespace bitscale {

namespace {

constexpr std::uintmax_t kMaxBytes = std::uintmax_t{4} << 30;  // 4 GiB: 1G fp32 values
constexpr char kMagic[] = "\x93NUMPY";

static_assert(std::endian::native == std::endian::little, "gradient files are little-endian");

}  // namespace

std::vector<std::byte> read_binary(const std::string& path, const std::string& field) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("", field, path, "no such file");
  if (!fs::is_regular_file(path, ec)) throw InputError("", field, path, "is not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError("", field, path, "cannot read its size");
  if (size > kMaxBytes) throw InputError("", field, path, "is larger than 4 GiB; split the dump");
  std::ifstream in(path, std::ios::binary);
  std::vector<std::byte> data(size);
  if (!in || !in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) {
    throw InputError("", field, path, "cannot be read");
  }
  return data;
}

std::vector<float> read_gradients(const std::string& path, const std::string& field) {
  const auto data = read_binary(path, field);
  std::size_t offset = 0;
  if (data.size() >= 6 && std::memcmp(data.data(), kMagic, 6) == 0) {
    auto bad = [&](const std::string& rule) { return InputError(path, ".npy header", "", rule); };
    if (data.size() < 10) throw bad("truncated");
    const auto major = static_cast<unsigned>(data[6]);
    std::size_t header_len = 0, header_start = 0;
    if (major == 1) {
      header_len = static_cast<std::size_t>(data[8]) | (static_cast<std::size_t>(data[9]) << 8);
      header_start = 10;
    } else if (major == 2 || major == 3) {
      if (data.size() < 12) throw bad("truncated");
      for (int b = 0; b < 4; ++b) header_len |= static_cast<std::size_t>(data[8 + b]) << (8 * b);
      header_start = 12;
    } else {
      throw bad(fmt::format("format version {} is not supported (1, 2 or 3)", major));
    }
    if (header_start + header_len > data.size()) throw bad("truncated");
    const std::string header(reinterpret_cast<const char*>(data.data() + header_start), header_len);
    std::smatch m;
    if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')"))) throw bad("no 'descr' (dtype)");
    if (m[1] != "<f4" && m[1] != "|f4" && m[1] != "=f4") {
      throw InputError(path, "dtype", m[1], "must be float32 ('<f4'): save the gradients as float32");
    }
    // Fortran order only permutes the values, which a codec treats one by one: read them in file order.
    offset = header_start + header_len;
  }
  const std::size_t bytes = data.size() - offset;
  if (bytes % 4 != 0) {
    throw InputError("", field, path, fmt::format("{} bytes of data is not a whole number of fp32 values", bytes));
  }
  if (bytes == 0) throw InputError("", field, path, "holds no values");
  std::vector<float> values(bytes / 4);
  std::memcpy(values.data(), data.data() + offset, bytes);
  return values;
}

void write_gradients(const std::string& path, const std::vector<float>& values, const std::string& field) {
  std::string out;
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
    std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", values.size());
    // magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64
    const std::size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
    out.append(kMagic, 6);
    out.push_back('\x01');
    out.push_back('\x00');
    out.push_back(static_cast<char>(header.size() & 0xFF));
    out.push_back(static_cast<char>(header.size() >> 8));
    out += header;
  }
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * 4);
  write_file_atomically(path, out, field);
}

}  // namespace bitscale
