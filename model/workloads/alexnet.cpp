// AlexNet as in torchvision.models.alexnet (one-tower variant of Krizhevsky et al. 2012, arXiv 1404.5997),
// 224x224 input, 1000 classes. torchvision reports 61,100,840 parameters.
#include "model/workload.hpp"

namespace bitscale {

Workload make_alexnet() {
  Workload w;
  w.name = "alexnet";
  w.description = "AlexNet (torchvision), ImageNet 224x224, 1000 classes";
  w.source = "torchvision.models.alexnet (pytorch/vision torchvision/models/alexnet.py)";
  w.sample = "224x224 RGB image";
  w.default_batch = 128;
  w.default_optimizer = Optimizer::momentum;
  NetBuilder b(w);
  NetBuilder::Shape x{3, 224, 224};
  x = b.conv("features.0", x, 64, 11, 11, 4, 2, 2);
  x = b.pool("features.2", x, 3, 2);
  x = b.conv("features.3", x, 192, 5, 5, 1, 2, 2);
  x = b.pool("features.5", x, 3, 2);
  x = b.conv("features.6", x, 384, 3, 3, 1, 1, 1);
  x = b.conv("features.8", x, 256, 3, 3, 1, 1, 1);
  x = b.conv("features.10", x, 256, 3, 3, 1, 1, 1);
  x = b.pool("features.12", x, 3, 2);  // 6x6: the adaptive 6x6 pool is then the identity
  b.linear("classifier.1", x.elements(), 4096);
  b.linear("classifier.4", 4096, 4096);
  b.linear("classifier.6", 4096, 1000);
  return w;
}

}  // namespace bitscale
