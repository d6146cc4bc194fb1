// VGG-16 (configuration D of Simonyan & Zisserman, arXiv 1409.1556) as in torchvision.models.vgg16 (no batch
// norm), 224x224 input, 1000 classes. torchvision reports 138,357,544 parameters.
#include <fmt/format.h>

#include "model/workload.hpp"

namespace bitscale {

Workload make_vgg16() {
  Workload w;
  w.name = "vgg16";
  w.description = "VGG-16 (torchvision, configuration D, no batch norm), ImageNet 224x224";
  w.source = "torchvision.models.vgg16 (pytorch/vision torchvision/models/vgg.py, cfg 'D')";
  w.sample = "224x224 RGB image";
  w.default_batch = 64;
  w.default_optimizer = Optimizer::momentum;
  NetBuilder b(w);
  constexpr int kPool = 0;
  constexpr int kCfg[] = {64, 64, kPool, 128, 128, kPool, 256, 256, 256, kPool,
                          512, 512, 512, kPool, 512, 512, 512, kPool};
  NetBuilder::Shape x{3, 224, 224};
  int index = 0;
  for (int c : kCfg) {
    if (c == kPool) {
      x = b.pool(fmt::format("features.{}", index), x, 2, 2);
      index += 1;
    } else {
      x = b.conv(fmt::format("features.{}", index), x, c, 3, 3, 1, 1, 1);
      index += 2;  // conv, ReLU
    }
  }
  b.linear("classifier.0", x.elements(), 4096);  // 512 x 7 x 7
  b.linear("classifier.3", 4096, 4096);
  b.linear("classifier.6", 4096, 1000);
  return w;
}

}  // namespace bitscale
