#include "tools/train_nn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

using MatrixMap = Eigen::Map<Matrix>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;

// Y = W X + b (X: in x batch), then ReLU unless last.
class Linear final : public NnLayer {
 public:
  Linear(std::int64_t in, std::int64_t out, bool relu) : in_(in), out_(out), relu_(relu) {}
  std::int64_t parameters() const override { return in_ * out_ + out_; }
  void bind(float* w, float* g) override {
    new (&w_) MatrixMap(w, out_, in_);
    new (&b_) VectorMap(w + in_ * out_, out_);
    new (&dw_) MatrixMap(g, out_, in_);
    new (&db_) VectorMap(g + in_ * out_, out_);
  }
  const Matrix& forward(const Matrix& x) override {
    x_ = &x;
    y_.noalias() = w_ * x;
    y_.colwise() += b_;
    if (relu_) y_ = y_.cwiseMax(0.0f);
    return y_;
  }
  const Matrix& backward(const Matrix& dy) override {
    const Matrix* d = &dy;
    if (relu_) {
      masked_ = (y_.array() > 0.0f).select(dy, 0.0f);
      d = &masked_;
    }
    dw_.noalias() = *d * x_->transpose();
    db_ = d->rowwise().sum();
    dx_.noalias() = w_.transpose() * *d;
    return dx_;
  }

 private:
  std::int64_t in_, out_;
  bool relu_;
  MatrixMap w_{nullptr, 0, 0}, dw_{nullptr, 0, 0};
  VectorMap b_{nullptr, 0}, db_{nullptr, 0};
  const Matrix* x_ = nullptr;
  Matrix y_, masked_, dx_;
};

// Convolution on activations laid out (batch x H x W) rows by C columns: row b*H*W + y*W + x holds one pixel's
// channels. cols^T has a row per output pixel and a column per (ky, kx, c_in); Y = cols^T W^T + b, then ReLU.
class Conv final : public NnLayer {
 public:
  Conv(std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t stride, std::int64_t pad, std::int64_t h,
       std::int64_t w, bool relu)
      : cin_(cin), cout_(cout), k_(k), s_(stride), p_(pad), h_(h), w_in_(w), relu_(relu) {
    ho_ = (h + 2 * pad - k) / stride + 1;
    wo_ = (w + 2 * pad - k) / stride + 1;
  }
  std::int64_t parameters() const override { return cout_ * k_ * k_ * cin_ + cout_; }
  std::int64_t out_pixels() const { return ho_ * wo_; }
  void bind(float* w, float* g) override {
    new (&w_) MatrixMap(w, cout_, k_ * k_ * cin_);
    new (&b_) VectorMap(w + cout_ * k_ * k_ * cin_, cout_);
    new (&dw_) MatrixMap(g, cout_, k_ * k_ * cin_);
    new (&db_) VectorMap(g + cout_ * k_ * k_ * cin_, cout_);
  }
  const Matrix& forward(const Matrix& x) override {
    const std::int64_t batch = x.rows() / (h_ * w_in_);
    cols_.setZero(batch * ho_ * wo_, k_ * k_ * cin_);
    for_each_tap(batch, [&](std::int64_t row, std::int64_t col, std::int64_t in_row) {
      for (std::int64_t c = 0; c < cin_; ++c) cols_(row, col + c) = x(in_row, c);
    });
    y_.noalias() = cols_ * w_.transpose();
    y_.rowwise() += b_.transpose();
    if (relu_) y_ = y_.cwiseMax(0.0f);
    batch_ = batch;
    return y_;
  }
  const Matrix& backward(const Matrix& dy) override {
    const Matrix* d = &dy;
    if (relu_) {
      masked_ = (y_.array() > 0.0f).select(dy, 0.0f);
      d = &masked_;
    }
    dw_.noalias() = d->transpose() * cols_;
    db_ = d->colwise().sum().transpose();
    dcols_.noalias() = *d * w_;
    dx_.setZero(batch_ * h_ * w_in_, cin_);
    for_each_tap(batch_, [&](std::int64_t row, std::int64_t col, std::int64_t in_row) {
      for (std::int64_t c = 0; c < cin_; ++c) dx_(in_row, c) += dcols_(row, col + c);
    });
    return dx_;
  }

 private:
  // im2col's map: for every output pixel (row of cols^T) and kernel tap inside the input, f(row, first column of
  // the tap's channels in cols^T, input pixel row); padding taps are skipped (zero)
  template <typename F>
  void for_each_tap(std::int64_t batch, F&& f) const {
    for (std::int64_t b = 0; b < batch; ++b) {
      for (std::int64_t oy = 0; oy < ho_; ++oy) {
        for (std::int64_t ox = 0; ox < wo_; ++ox) {
          const std::int64_t row = (b * ho_ + oy) * wo_ + ox;
          for (std::int64_t ky = 0; ky < k_; ++ky) {
            const std::int64_t iy = oy * s_ - p_ + ky;
            if (iy < 0 || iy >= h_) continue;
            for (std::int64_t kx = 0; kx < k_; ++kx) {
              const std::int64_t ix = ox * s_ - p_ + kx;
              if (ix < 0 || ix >= w_in_) continue;
              f(row, (ky * k_ + kx) * cin_, (b * h_ + iy) * w_in_ + ix);
            }
          }
        }
      }
    }
  }

  std::int64_t cin_, cout_, k_, s_, p_, h_, w_in_, ho_ = 0, wo_ = 0, batch_ = 0;
  bool relu_;
  MatrixMap w_{nullptr, 0, 0}, dw_{nullptr, 0, 0};
  VectorMap b_{nullptr, 0}, db_{nullptr, 0};
  Matrix cols_, y_, masked_, dcols_, dx_;
};

// Layout changes between per-sample columns (features in c, y, x order) and the convolution's pixel rows, one
// the other's inverse: `to_pixels` selects the direction of the forward pass.
void columns_to_pixels(const Matrix& x, std::int64_t c, std::int64_t hw, Matrix& y) {
  const std::int64_t batch = x.cols();
  y.resize(batch * hw, c);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t p = 0; p < hw; ++p) y(b * hw + p, ch) = x(ch * hw + p, b);
}
void pixels_to_columns(const Matrix& x, std::int64_t c, std::int64_t hw, Matrix& y) {
  const std::int64_t batch = x.rows() / hw;
  y.resize(c * hw, batch);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t p = 0; p < hw; ++p) y(ch * hw + p, b) = x(b * hw + p, ch);
}

class Relayout final : public NnLayer {
 public:
  Relayout(std::int64_t c, std::int64_t pixels, bool to_pixels) : c_(c), hw_(pixels), to_pixels_(to_pixels) {}
  std::int64_t parameters() const override { return 0; }
  void bind(float*, float*) override {}
  const Matrix& forward(const Matrix& x) override {
    (to_pixels_ ? columns_to_pixels : pixels_to_columns)(x, c_, hw_, y_);
    return y_;
  }
  const Matrix& backward(const Matrix& dy) override {
    (to_pixels_ ? pixels_to_columns : columns_to_pixels)(dy, c_, hw_, dx_);
    return dx_;
  }

 private:
  std::int64_t c_, hw_;
  bool to_pixels_;
  Matrix y_, dx_;
};

}  // namespace

Network::Network(const Workload& w, std::int64_t batch, std::uint64_t seed) {
  if (batch < 1) throw InputError("", "--batch", std::to_string(batch), "must be at least 1");
  // every layer must be linear or conv, given by its architecture (model/workload.hpp LayerGeometry), the last
  // one linear
  std::vector<std::int64_t> owner;  // workload layer of each nn layer (-1: a layout change)
  std::int64_t features = 0;        // current per-sample width in column layout (0: pixel layout)
  struct Pixels {
    std::int64_t c = 0, h = 0, w = 0;
  } pixels;
  bool in_pixels = false;
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const auto& l = w.layers[i];
    const bool last = i + 1 == w.layers.size();
    if (l.kind == LayerKind::linear) {
      if (l.geometry.in <= 0 || l.geometry.out <= 0) {
        throw InputError(w.source, "layer." + l.name, "", "a linear layer needs in_features and out_features to be trained");
      }
      if (in_pixels) {
        if (pixels.c * pixels.h * pixels.w != l.geometry.in) {
          throw InputError(w.source, "layer." + l.name + ".in_features", std::to_string(l.geometry.in),
                           fmt::format("must equal the previous layer's output, {} x {} x {} = {}", pixels.c, pixels.h,
                                       pixels.w, pixels.c * pixels.h * pixels.w));
        }
        layers_.push_back(std::make_unique<Relayout>(pixels.c, pixels.h * pixels.w, false));
        owner.push_back(-1);
        in_pixels = false;
        features = l.geometry.in;
      } else if (features == 0) {
        features = l.geometry.in;
        input_features_ = features;
      } else if (features != l.geometry.in) {
        throw InputError(w.source, "layer." + l.name + ".in_features", std::to_string(l.geometry.in),
                         fmt::format("must equal the previous layer's output, {}", features));
      }
      layers_.push_back(std::make_unique<Linear>(l.geometry.in, l.geometry.out, !last));
      owner.push_back(static_cast<std::int64_t>(i));
      features = l.geometry.out;
    } else if (l.kind == LayerKind::conv) {
      if (l.geometry.kernel <= 0) {
        throw InputError(w.source, "layer." + l.name, "", "a conv layer needs its architecture (and a bias) to be trained");
      }
      const auto& g = l.geometry;
      if (last) throw InputError(w.source, "layer." + l.name, "", "the last layer must be linear (the classifier) to be trained");
      if (!in_pixels) {
        if (features == 0) {
          input_features_ = g.in * g.h * g.w;
        } else if (features != g.in * g.h * g.w) {
          throw InputError(w.source, "layer." + l.name + ".input", "",
                           fmt::format("{} x {} x {} must equal the previous layer's output, {}", g.in, g.h, g.w, features));
        }
        layers_.push_back(std::make_unique<Relayout>(g.in, g.h * g.w, true));
        owner.push_back(-1);
      } else if (pixels.c != g.in || pixels.h != g.h || pixels.w != g.w) {
        throw InputError(w.source, "layer." + l.name + ".input", "",
                         fmt::format("{} x {} x {} must equal the previous layer's output, {} x {} x {}", g.in, g.h,
                                     g.w, pixels.c, pixels.h, pixels.w));
      }
      auto conv = std::make_unique<Conv>(g.in, g.out, g.kernel, g.stride, g.padding, g.h, g.w, true);
      pixels = {g.out, (g.h + 2 * g.padding - g.kernel) / g.stride + 1, (g.w + 2 * g.padding - g.kernel) / g.stride + 1};
      layers_.push_back(std::move(conv));
      owner.push_back(static_cast<std::int64_t>(i));
      in_pixels = true;
    } else {
      throw InputError(w.source, "layer." + l.name + ".kind", std::string(name(l.kind)),
                       "the trainer runs linear and conv layers given by architecture only");
    }
  }
  if (w.layers.empty() || w.layers.back().kind != LayerKind::linear) {
    throw InputError(w.source, "layer", "", "the last layer must be linear (the classifier) to be trained");
  }
  classes_ = features;
  // parameters: the flat buffers hold the layers from the last to the first
  std::int64_t total = 0;
  for (const auto& l : layers_) total += l->parameters();
  weights_.assign(static_cast<std::size_t>(total), 0.0f);
  gradients_.assign(static_cast<std::size_t>(total), 0.0f);
  offsets_.assign(w.layers.size(), 0);
  owner_ = owner;
  std::int64_t at = 0;
  std::mt19937_64 rng(seed);
  for (auto i = static_cast<std::int64_t>(layers_.size()) - 1; i >= 0; --i) {
    auto& l = layers_[static_cast<std::size_t>(i)];
    if (owner[static_cast<std::size_t>(i)] >= 0) {
      offsets_[static_cast<std::size_t>(owner[static_cast<std::size_t>(i)])] = at;
      const auto& geometry = w.layers[static_cast<std::size_t>(owner[static_cast<std::size_t>(i)])].geometry;
      const double fan_in = static_cast<double>(geometry.kernel > 0 ? geometry.in * geometry.kernel * geometry.kernel
                                                                    : geometry.in);
      std::normal_distribution<float> normal(0.0f, static_cast<float>(std::sqrt(2.0 / fan_in)));
      const std::int64_t bias = geometry.out;
      for (std::int64_t j = 0; j < l->parameters() - bias; ++j) weights_[static_cast<std::size_t>(at + j)] = normal(rng);
    }
    l->bind(weights_.data() + at, gradients_.data() + at);
    at += l->parameters();
  }
  inputs_.assign(layers_.size(), nullptr);
  (void)batch;
}

std::int64_t Network::layer_parameters(std::int64_t layer) const {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (owner_[i] == layer) return layers_[i]->parameters();
  }
  return 0;
}

double Network::forward(const Matrix& x, std::span<const std::int32_t> labels, std::span<double> seconds) {
  BITSCALE_CHECK(seconds.empty() || seconds.size() == offsets_.size()) << seconds.size() << " timings for " << layers();
  const Matrix* a = &x;
  auto t = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    inputs_[i] = a;
    a = &layers_[i]->forward(*a);
    if (!seconds.empty() && owner_[i] >= 0) {
      const auto now = std::chrono::steady_clock::now();
      seconds[static_cast<std::size_t>(owner_[i])] += std::chrono::duration<double>(now - t).count();
      t = now;
    }
  }
  // softmax cross-entropy, mean over the batch; dlogits = (softmax - onehot) / batch
  const Matrix& logits = *a;
  const auto batch = logits.cols();
  dlogits_.resize(logits.rows(), batch);
  double loss = 0;
  for (Eigen::Index b = 0; b < batch; ++b) {
    const float top = logits.col(b).maxCoeff();
    const Eigen::VectorXf e = (logits.col(b).array() - top).exp().matrix();
    const float sum = e.sum();
    const auto label = labels[static_cast<std::size_t>(b)];
    loss += std::log(static_cast<double>(sum)) - static_cast<double>(logits(label, b) - top);
    dlogits_.col(b) = e / sum;
    dlogits_(label, b) -= 1.0f;
  }
  dlogits_ /= static_cast<float>(batch);
  if (!seconds.empty()) seconds.back() += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  upstream_ = &dlogits_;
  next_backward_ = static_cast<std::int64_t>(layers_.size()) - 1;
  return loss / static_cast<double>(batch);
}

void Network::backward_layer(std::int64_t layer) {
  BITSCALE_CHECK(layer >= 0 && layer < layers()) << "layer " << layer << " of " << layers();
  // the nn layers from where the last call stopped down to this workload layer (layout changes included)
  while (next_backward_ >= 0) {
    const auto i = static_cast<std::size_t>(next_backward_--);
    upstream_ = &layers_[i]->backward(*upstream_);
    if (owner_[i] == layer) return;
  }
}

namespace {

// A layer of the trainer with its own weights, gradients and input, for timing.
struct TimedLayer {
  std::unique_ptr<NnLayer> layer;
  Matrix x, dy;
  std::vector<float> weights, grads;
  TimedLayer(const Layer& spec, std::int64_t batch) {
    const auto& g = spec.geometry;
    if (spec.kind == LayerKind::linear && g.in > 0) {
      layer = std::make_unique<Linear>(g.in, g.out, true);
      x = Matrix::Random(g.in, batch);
    } else if (spec.kind == LayerKind::conv && g.kernel > 0) {
      layer = std::make_unique<Conv>(g.in, g.out, g.kernel, g.stride, g.padding, g.h, g.w, true);
      x = Matrix::Random(batch * g.h * g.w, g.in);
    } else {
      throw InputError("", "layer." + spec.name, "", "only linear and conv layers given by architecture can be timed");
    }
    weights.assign(static_cast<std::size_t>(layer->parameters()), 0.01f);
    grads.assign(weights.size(), 0.0f);
    layer->bind(weights.data(), grads.data());
  }
  // keep_dy: the upstream gradient made once (a training loop's steady state); else made in every pass, as
  // calibration measures the reference layers' rates
  void pass(bool keep_dy) {
    const Matrix& y = layer->forward(x);
    if (!keep_dy || dy.rows() != y.rows() || dy.cols() != y.cols()) dy = Matrix::Constant(y.rows(), y.cols(), 0.001f);
    layer->backward(dy);
  }
};

}  // namespace

double layer_flops_per_s(const Layer& layer, std::int64_t batch, int runs) {
  TimedLayer l(layer, batch);
  std::vector<double> times;
  for (int r = 0; r <= runs; ++r) {
    const auto t = std::chrono::steady_clock::now();
    l.pass(false);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    if (r > 0) times.push_back(s);
  }
  std::sort(times.begin(), times.end());
  return 3.0 * layer.forward_flops * static_cast<double>(batch) / times[times.size() / 2];
}

std::vector<std::vector<double>> network_layer_seconds(const Workload& w, std::int64_t batch, int steps) {
  BITSCALE_CHECK(steps > 0) << steps << " steps";
  Network net(w, batch, 1);
  const TeacherTask task(net.input_features(), net.classes(), 1);
  const auto n = static_cast<std::size_t>(net.layers());
  std::vector<std::vector<double>> seconds(n);
  std::vector<double> step(n);
  Matrix x;
  std::vector<std::int32_t> labels;
  constexpr int kWarmup = 2;
  for (int s = 0; s < kWarmup + steps; ++s) {
    task.draw(batch, 0, static_cast<std::uint64_t>(s), x, labels);
    std::fill(step.begin(), step.end(), 0.0);
    net.forward(x, labels, step);
    for (auto i = net.layers() - 1; i >= 0; --i) {
      const auto t = std::chrono::steady_clock::now();
      net.backward_layer(i);
      step[static_cast<std::size_t>(i)] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    }
    if (s < kWarmup) continue;
    for (std::size_t i = 0; i < n; ++i) seconds[i].push_back(step[i]);
  }
  return seconds;
}

std::function<void()> network_step(const Workload& w, std::int64_t batch) {
  struct State {
    Network net;
    Matrix x;
    std::vector<std::int32_t> labels;
    State(const Workload& w, std::int64_t batch) : net(w, batch, 1) {}
    void step() {
      net.forward(x, labels);
      for (auto i = net.layers() - 1; i >= 0; --i) net.backward_layer(i);
    }
  };
  auto s = std::make_shared<State>(w, batch);
  const TeacherTask task(s->net.input_features(), s->net.classes(), 1);
  task.draw(batch, 0, 0, s->x, s->labels);
  s->step();  // warm-up: the buffers the step makes, made
  return [s] { s->step(); };
}

std::function<void()> layer_pass(const Layer& layer, std::int64_t batch) {
  auto l = std::make_shared<TimedLayer>(layer, batch);
  l->pass(true);  // the buffers the pass makes, made
  return [l] { l->pass(true); };
}

std::vector<float> initial_gradients(const Workload& w, std::int64_t batch) {
  Network net(w, batch, 1);
  const TeacherTask task(net.input_features(), net.classes(), 1);
  Matrix x;
  std::vector<std::int32_t> labels;
  task.draw(batch, 0, 0, x, labels);
  net.forward(x, labels);
  for (auto i = net.layers() - 1; i >= 0; --i) net.backward_layer(i);
  return {net.gradients().begin(), net.gradients().end()};
}

TeacherTask::TeacherTask(std::int64_t features, std::int64_t classes, std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x7EAC4E5ull);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  teacher_.resize(classes, features);
  for (Eigen::Index j = 0; j < teacher_.size(); ++j) teacher_.data()[j] = normal(rng);
}

void TeacherTask::draw(std::int64_t batch, std::uint64_t stream, std::uint64_t index, Matrix& x,
                       std::vector<std::int32_t>& y) const {
  std::mt19937_64 rng(0x5EED0000ull + stream * 0x9E3779B97F4A7C15ull + index);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  x.resize(teacher_.cols(), batch);
  for (Eigen::Index j = 0; j < x.size(); ++j) x.data()[j] = normal(rng);
  const Matrix scores = teacher_ * x;
  y.resize(static_cast<std::size_t>(batch));
  for (Eigen::Index b = 0; b < batch; ++b) {
    Eigen::Index arg = 0;
    scores.col(b).maxCoeff(&arg);
    y[static_cast<std::size_t>(b)] = static_cast<std::int32_t>(arg);
  }
}

}  // namespace bitscale
