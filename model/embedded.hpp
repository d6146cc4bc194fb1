// Text files compiled into the binary (the shipped cluster profiles), generated from data/ at configure time.
#pragma once
#include <span>
#include <string_view>

namespace bitscale {

struct EmbeddedFile {
  std::string_view stem;  // file name without extension: the profile's shipped name
  std::string_view text;
};

std::span<const EmbeddedFile> embedded_cluster_files();

}  // namespace bitscale
