// Workloads against the reference implementations' published parameter counts and a few layers by hand.
#include "model/workload.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kernels/input_error.hpp"

namespace bitscale {
namespace {

double macs_of(const Workload& w, bool skip_aux = false) {
  double flops = 0;
  for (const auto& l : w.layers) {
    if (skip_aux && l.name.starts_with("AuxLogits")) continue;
    if (l.kind == LayerKind::conv || l.kind == LayerKind::linear) flops += l.forward_flops;
  }
  return flops / 2;
}

TEST(Workloads, ParameterTotalsEqualTheReferenceImplementations) {
  // torchvision model docs (weights metadata "num_params"): AlexNet_Weights.IMAGENET1K_V1 61,100,840;
  // VGG16_Weights.IMAGENET1K_V1 138,357,544; ResNet50_Weights 25,557,032; Inception_V3_Weights 27,161,264.
  EXPECT_EQ(find_workload("alexnet").parameters(), 61'100'840);
  EXPECT_EQ(find_workload("vgg16").parameters(), 138'357'544);
  EXPECT_EQ(find_workload("resnet50").parameters(), 25'557'032);
  EXPECT_EQ(find_workload("inception-v3").parameters(), 27'161'264);
  // Hugging Face transformers: BertModel.from_pretrained("bert-large-uncased").num_parameters() = 335,141,888;
  // GPT2LMHeadModel.from_pretrained("gpt2-xl").num_parameters() = 1,557,611,200 (head tied to wte).
  EXPECT_EQ(find_workload("bert-large").parameters(), 335'141'888);
  EXPECT_EQ(find_workload("gpt2-xl").parameters(), 1'557'611'200);
  // torch.nn.LSTM shapes by hand (see lstm_lm.cpp): 6,500,000 + 2 x 3,385,200 + 6,510,000
  EXPECT_EQ(find_workload("lstm-lm").parameters(), 19'780'400);
}

TEST(Workloads, MultiplyAccumulatesMatchTorchvisionTables) {
  // torchvision model docs list "GFLOPS" counted as multiply-accumulates: AlexNet 0.71, VGG16 15.47,
  // ResNet50 4.09, Inception_V3 5.71 (the main network, without the auxiliary head). Ours: 2 FLOPs per MAC.
  EXPECT_NEAR(macs_of(find_workload("alexnet")) / 1e9, 0.71, 0.01);
  EXPECT_NEAR(macs_of(find_workload("vgg16")) / 1e9, 15.47, 0.01);
  EXPECT_NEAR(macs_of(find_workload("resnet50")) / 1e9, 4.09, 0.01);
  EXPECT_NEAR(macs_of(find_workload("inception-v3"), true) / 1e9, 5.71, 0.01);
}

TEST(Workloads, ResNetStemAndHeadByHand) {
  const auto w = find_workload("resnet50");
  const auto& conv1 = w.layers.front();
  EXPECT_EQ(conv1.name, "conv1");
  // 7x7, 3 -> 64, stride 2, pad 3, no bias, 224 -> 112: 3*64*49 = 9408 weights;
  // 2 * 9408 * 112 * 112 = 236,027,904 FLOPs; 64 * 112 * 112 = 802,816 outputs
  EXPECT_EQ(conv1.parameters, 9408);
  EXPECT_DOUBLE_EQ(conv1.forward_flops, 236'027'904.0);
  EXPECT_EQ(conv1.activations, 802'816);
  const auto& fc = w.layers.back();
  EXPECT_EQ(fc.name, "fc");
  EXPECT_EQ(fc.parameters, 2048 * 1000 + 1000);
  EXPECT_DOUBLE_EQ(fc.forward_flops, 2.0 * 2048 * 1000);
}

TEST(Workloads, TransformerFlopsByHand) {
  // BERT-large, L = 512 tokens, d = 1024, f = 4096, 24 layers:
  // linear FLOPs per layer 2 L (4 d^2 + 2 d f) = 2*512*12,582,912; attention 4 L^2 d per layer
  const auto w = find_workload("bert-large");
  double linear = 0, attention = 0;
  for (const auto& l : w.layers) {
    if (l.kind == LayerKind::linear && l.name.starts_with("encoder")) linear += l.forward_flops;
    if (l.kind == LayerKind::attention) attention += l.forward_flops;
  }
  EXPECT_DOUBLE_EQ(linear, 24.0 * 2 * 512 * 12'582'912);
  EXPECT_DOUBLE_EQ(attention, 24.0 * 4 * 512 * 512 * 1024);
}

TEST(Workloads, MlpFromWidths) {
  const auto w = find_workload("mlp:784,1024,10");
  // 784*1024 + 1024 + 1024*10 + 10
  EXPECT_EQ(w.parameters(), 814'090);
  EXPECT_DOUBLE_EQ(w.forward_flops(), 2.0 * (784 * 1024 + 1024 * 10));
  EXPECT_EQ(find_workload("mlp:784x1024x10").parameters(), 814'090);
  EXPECT_EQ(find_workload("mlp").parameters(), 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10);
  for (const char* bad : {"mlp:", "mlp:784", "mlp:784,0,10", "mlp:a,b", "mlp:784,-3"}) {
    EXPECT_THROW(find_workload(bad), InputError) << bad;
  }
}

TEST(Workloads, UnknownNameListsTheShippedOnes) {
  try {
    find_workload("resnet51");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "--workload");
    EXPECT_NE(e.rule().find("resnet50"), std::string::npos);
    EXPECT_NE(e.rule().find("gpt2-xl"), std::string::npos);
  }
}

TEST(WorkloadToml, ShippedExampleLoads) {
  const auto w = load_workload_toml(std::string(BITSCALE_DATA_DIR) + "/workloads/example-mlp.toml");
  EXPECT_EQ(w.name, "example-cnn-mlp");
  EXPECT_EQ(w.default_batch, 256);
  // conv1 3*32*9 + 32 = 896; conv2 32*64*9 + 64 = 18,496; fc1 4096*512 + 512 = 2,097,664; fc2 512*10 + 10 = 5,130
  EXPECT_EQ(w.parameters(), 896 + 18'496 + 2'097'664 + 5'130);
  // conv2: stride 2, pad 1, 32 -> 16: 64*16*16 outputs
  EXPECT_EQ(w.layers[1].activations, 64 * 16 * 16);
}

std::string error_of(const std::string& toml) {
  try {
    parse_workload_toml(toml, "test.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(WorkloadToml, BadFilesNameTheField) {
  const std::string layer = "[[layer]]\nkind = \"linear\"\nin_features = 4\nout_features = 2\n";
  EXPECT_EQ(error_of("name = \"x\"\n" + layer), "");
  EXPECT_NE(error_of(layer).find("name: missing"), std::string::npos) << error_of(layer);
  EXPECT_NE(error_of("name = \"x\"\n").find("layer"), std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\n[[layer]]\nkind = \"linear\"\nin_features = \"a\"\nout_features = 2\n")
                .find("layer[0].in_features = '\"a\"': must be an integer"),
            std::string::npos)
      << error_of("name = \"x\"\n[[layer]]\nkind = \"linear\"\nin_features = \"a\"\nout_features = 2\n");
  EXPECT_NE(error_of("name = \"x\"\n[[layer]]\nkind = \"linear\"\nin_features = -4\nout_features = 2\n")
                .find("layer[0].in_features"),
            std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\n[[layer]]\nkind = \"lstm\"\n").find("unknown layer kind"), std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\nname = \"y\"\n" + layer).find("malformed TOML"), std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\nbatch = 0\n" + layer).find("batch"), std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\n" + layer + "bais = true\n").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\n[[layer]]\nkind = \"attention\"\nparameters = 0\nforward_flops = nan\n"
                     "activations = 1\n")
                .find("forward_flops"),
            std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\n[[layer]]\nkind = \"pool\"\n").find("needs explicit parameters"),
            std::string::npos);
  EXPECT_NE(error_of("name = [").find("line 1"), std::string::npos);
}

TEST(WorkloadToml, MissingFileOrDirectory) {
  EXPECT_THROW(find_workload("/nonexistent/dir/w.toml"), InputError);
  EXPECT_THROW(load_workload_toml(std::filesystem::temp_directory_path().string()), InputError);
  const auto empty = std::filesystem::temp_directory_path() / "bitscale-empty-workload.toml";
  std::ofstream(empty).close();
  EXPECT_THROW(load_workload_toml(empty.string()), InputError);
  std::filesystem::remove(empty);
}

}  // namespace
}  // namespace bitscale
