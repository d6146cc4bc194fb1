// The one table of shipped workloads: a new workload is one builder file plus one line here.
#include <filesystem>

#include "kernels/input_error.hpp"
#include "model/parse.hpp"
#include "model/workload.hpp"

namespace bitscale {

namespace {

constexpr std::int64_t kDefaultMlp[] = {784, 1024, 1024, 10};
Workload make_default_mlp() { return make_mlp(kDefaultMlp); }

constexpr WorkloadInfo kWorkloads[] = {
    {"alexnet", "AlexNet, torchvision, 224x224", make_alexnet},
    {"vgg16", "VGG-16, torchvision, 224x224", make_vgg16},
    {"resnet50", "ResNet-50 v1.5, torchvision, 224x224", make_resnet50},
    {"inception-v3", "Inception-v3 with aux head, torchvision, 299x299", make_inception_v3},
    {"bert-large", "BERT-large uncased (Hugging Face BertModel), 512 tokens", make_bert_large},
    {"gpt2-xl", "GPT-2 XL (Hugging Face), 1024 tokens", make_gpt2_xl},
    {"lstm-lm", "2x650 LSTM language model (PTB medium), 35 tokens", make_lstm_lm},
    {"mlp", "MLP 784,1024,1024,10; any widths as mlp:W0,W1,...", make_default_mlp},
};

}  // namespace

std::span<const WorkloadInfo> workload_table() { return kWorkloads; }

Workload find_workload(std::string_view name_or_path) {
  for (const auto& w : kWorkloads) {
    if (w.name == name_or_path) return w.build();
  }
  if (name_or_path.starts_with("mlp:")) {
    std::string spec(name_or_path.substr(4));
    for (auto& ch : spec) {
      if (ch == 'x') ch = ',';
    }
    const auto widths = parse_int_list("--workload (mlp widths)", spec, 1, 1'000'000);
    auto w = make_mlp(widths);
    w.validate();
    return w;
  }
  std::error_code ec;
  if (name_or_path.ends_with(".toml") || std::filesystem::exists(std::string(name_or_path), ec)) {
    return load_workload_toml(std::string(name_or_path));
  }
  std::string valid;
  for (const auto& w : kWorkloads) valid += std::string(w.name) + ", ";
  throw InputError("", "--workload", std::string(name_or_path),
                   "unknown workload; valid: " + valid + "mlp:W0,W1,..., or a path to a .toml file");
}

}  // namespace bitscale
