// Inception-v3 (Szegedy et al., arXiv 1512.00567) as in torchvision.models.inception_v3 with its auxiliary
// classifier (aux_logits=True, the training configuration), 299x299 input, 1000 classes. Every BasicConv2d is a
// bias-free convolution followed by batch norm. torchvision reports 27,161,264 parameters.
#include <string>

#include "model/workload.hpp"

namespace bitscale {

namespace {

using Shape = NetBuilder::Shape;

class Inception {
 public:
  explicit Inception(NetBuilder& b) : b_(b) {}

  Shape basic(const std::string& name, Shape in, std::int64_t out, std::int64_t kh, std::int64_t kw,
              std::int64_t stride = 1, std::int64_t ph = 0, std::int64_t pw = 0) {
    auto y = b_.conv(name + ".conv", in, out, kh, kw, stride, ph, pw, false);
    b_.batchnorm(name + ".bn", y);
    return y;
  }
  Shape avgpool_branch(const std::string& name, Shape in, std::int64_t out) {
    auto y = b_.pool(name + ".avgpool", in, 3, 1, 1);
    return basic(name, y, out, 1, 1);
  }

  Shape a(const std::string& p, Shape x, std::int64_t pool_features) {
    auto b1 = basic(p + ".branch1x1", x, 64, 1, 1);
    auto b5 = basic(p + ".branch5x5_1", x, 48, 1, 1);
    b5 = basic(p + ".branch5x5_2", b5, 64, 5, 5, 1, 2, 2);
    auto bd = basic(p + ".branch3x3dbl_1", x, 64, 1, 1);
    bd = basic(p + ".branch3x3dbl_2", bd, 96, 3, 3, 1, 1, 1);
    bd = basic(p + ".branch3x3dbl_3", bd, 96, 3, 3, 1, 1, 1);
    auto bp = avgpool_branch(p + ".branch_pool", x, pool_features);
    return {b1.c + b5.c + bd.c + bp.c, b1.h, b1.w};
  }
  Shape b(const std::string& p, Shape x) {
    auto b3 = basic(p + ".branch3x3", x, 384, 3, 3, 2);
    auto bd = basic(p + ".branch3x3dbl_1", x, 64, 1, 1);
    bd = basic(p + ".branch3x3dbl_2", bd, 96, 3, 3, 1, 1, 1);
    bd = basic(p + ".branch3x3dbl_3", bd, 96, 3, 3, 2);
    auto bp = b_.pool(p + ".maxpool", x, 3, 2);
    return {b3.c + bd.c + bp.c, b3.h, b3.w};
  }
  Shape c(const std::string& p, Shape x, std::int64_t c7) {
    auto b1 = basic(p + ".branch1x1", x, 192, 1, 1);
    auto b7 = basic(p + ".branch7x7_1", x, c7, 1, 1);
    b7 = basic(p + ".branch7x7_2", b7, c7, 1, 7, 1, 0, 3);
    b7 = basic(p + ".branch7x7_3", b7, 192, 7, 1, 1, 3, 0);
    auto bd = basic(p + ".branch7x7dbl_1", x, c7, 1, 1);
    bd = basic(p + ".branch7x7dbl_2", bd, c7, 7, 1, 1, 3, 0);
    bd = basic(p + ".branch7x7dbl_3", bd, c7, 1, 7, 1, 0, 3);
    bd = basic(p + ".branch7x7dbl_4", bd, c7, 7, 1, 1, 3, 0);
    bd = basic(p + ".branch7x7dbl_5", bd, 192, 1, 7, 1, 0, 3);
    auto bp = avgpool_branch(p + ".branch_pool", x, 192);
    return {b1.c + b7.c + bd.c + bp.c, b1.h, b1.w};
  }
  Shape d(const std::string& p, Shape x) {
    auto b3 = basic(p + ".branch3x3_1", x, 192, 1, 1);
    b3 = basic(p + ".branch3x3_2", b3, 320, 3, 3, 2);
    auto b7 = basic(p + ".branch7x7x3_1", x, 192, 1, 1);
    b7 = basic(p + ".branch7x7x3_2", b7, 192, 1, 7, 1, 0, 3);
    b7 = basic(p + ".branch7x7x3_3", b7, 192, 7, 1, 1, 3, 0);
    b7 = basic(p + ".branch7x7x3_4", b7, 192, 3, 3, 2);
    auto bp = b_.pool(p + ".maxpool", x, 3, 2);
    return {b3.c + b7.c + bp.c, b3.h, b3.w};
  }
  Shape e(const std::string& p, Shape x) {
    auto b1 = basic(p + ".branch1x1", x, 320, 1, 1);
    auto b3 = basic(p + ".branch3x3_1", x, 384, 1, 1);
    auto b3a = basic(p + ".branch3x3_2a", b3, 384, 1, 3, 1, 0, 1);
    auto b3b = basic(p + ".branch3x3_2b", b3, 384, 3, 1, 1, 1, 0);
    auto bd = basic(p + ".branch3x3dbl_1", x, 448, 1, 1);
    bd = basic(p + ".branch3x3dbl_2", bd, 384, 3, 3, 1, 1, 1);
    auto bda = basic(p + ".branch3x3dbl_3a", bd, 384, 1, 3, 1, 0, 1);
    auto bdb = basic(p + ".branch3x3dbl_3b", bd, 384, 3, 1, 1, 1, 0);
    auto bp = avgpool_branch(p + ".branch_pool", x, 192);
    return {b1.c + b3a.c + b3b.c + bda.c + bdb.c + bp.c, b1.h, b1.w};
  }
  void aux(const std::string& p, Shape x) {
    auto y = b_.pool(p + ".avgpool", x, 5, 3);
    y = basic(p + ".conv0", y, 128, 1, 1);
    y = basic(p + ".conv1", y, 768, 5, 5);
    y = b_.global_pool(p + ".adaptive_avgpool", y);
    b_.linear(p + ".fc", y.c, 1000);
  }

 private:
  NetBuilder& b_;
};

}  // namespace

Workload make_inception_v3() {
  Workload w;
  w.name = "inception-v3";
  w.description = "Inception-v3 (torchvision, with auxiliary classifier), ImageNet 299x299";
  w.source = "torchvision.models.inception_v3, aux_logits=True (pytorch/vision torchvision/models/inception.py)";
  w.sample = "299x299 RGB image";
  w.default_batch = 64;
  w.default_optimizer = Optimizer::momentum;
  NetBuilder nb(w);
  Inception n(nb);
  Shape x{3, 299, 299};
  x = n.basic("Conv2d_1a_3x3", x, 32, 3, 3, 2);
  x = n.basic("Conv2d_2a_3x3", x, 32, 3, 3);
  x = n.basic("Conv2d_2b_3x3", x, 64, 3, 3, 1, 1, 1);
  x = nb.pool("maxpool1", x, 3, 2);
  x = n.basic("Conv2d_3b_1x1", x, 80, 1, 1);
  x = n.basic("Conv2d_4a_3x3", x, 192, 3, 3);
  x = nb.pool("maxpool2", x, 3, 2);
  x = n.a("Mixed_5b", x, 32);
  x = n.a("Mixed_5c", x, 64);
  x = n.a("Mixed_5d", x, 64);
  x = n.b("Mixed_6a", x);
  x = n.c("Mixed_6b", x, 128);
  x = n.c("Mixed_6c", x, 160);
  x = n.c("Mixed_6d", x, 160);
  x = n.c("Mixed_6e", x, 192);
  n.aux("AuxLogits", x);
  x = n.d("Mixed_7a", x);
  x = n.e("Mixed_7b", x);
  x = n.e("Mixed_7c", x);
  x = nb.global_pool("avgpool", x);
  nb.linear("fc", x.c, 1000);
  return w;
}

}  // namespace bitscale
