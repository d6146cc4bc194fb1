// ResNet-50 v1.5 (He et al., arXiv 1512.03385; stride on the 3x3 convolution) as in torchvision.models.resnet50,
// 224x224 input, 1000 classes. torchvision reports 25,557,032 parameters.
#include <fmt/format.h>

#include "model/workload.hpp"

namespace bitscale {

Workload make_resnet50() {
  Workload w;
  w.name = "resnet50";
  w.description = "ResNet-50 v1.5 (torchvision), ImageNet 224x224, 1000 classes";
  w.source = "torchvision.models.resnet50 (pytorch/vision torchvision/models/resnet.py, Bottleneck [3,4,6,3])";
  w.sample = "224x224 RGB image";
  w.default_batch = 128;
  w.default_optimizer = Optimizer::momentum;
  NetBuilder b(w);
  NetBuilder::Shape x{3, 224, 224};
  x = b.conv("conv1", x, 64, 7, 7, 2, 3, 3, false);
  b.batchnorm("bn1", x);
  x = b.pool("maxpool", x, 3, 2, 1);
  constexpr std::int64_t kBlocks[] = {3, 4, 6, 3};
  std::int64_t planes = 64;
  for (int stage = 0; stage < 4; ++stage, planes *= 2) {
    for (std::int64_t i = 0; i < kBlocks[stage]; ++i) {
      const auto p = fmt::format("layer{}.{}.", stage + 1, i);
      const std::int64_t stride = (i == 0 && stage > 0) ? 2 : 1;
      const auto in = x;
      auto y = b.conv(p + "conv1", in, planes, 1, 1, 1, 0, 0, false);
      b.batchnorm(p + "bn1", y);
      y = b.conv(p + "conv2", y, planes, 3, 3, stride, 1, 1, false);
      b.batchnorm(p + "bn2", y);
      y = b.conv(p + "conv3", y, planes * 4, 1, 1, 1, 0, 0, false);
      b.batchnorm(p + "bn3", y);
      if (i == 0) {
        const auto d = b.conv(p + "downsample.0", in, planes * 4, 1, 1, stride, 0, 0, false);
        b.batchnorm(p + "downsample.1", d);
      }
      x = y;
    }
  }
  x = b.global_pool("avgpool", x);
  b.linear("fc", x.c, 1000);
  return w;
}

}  // namespace bitscale
