#include "lightvault/runtime/backward.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "lightvault/model/synth_for_tests.h"
#include "lightvault/tensor/kernels.h"

namespace lv {
namespace {

std::vector<float> random_vector(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// Central difference of f at x[i], step eps.
double central_difference(const std::function<double()>& f, float& xi, float eps) {
  const float saved = xi;
  xi = saved + eps;
  const double up = f();
  xi = saved - eps;
  const double down = f();
  xi = saved;
  return (up - down) / (2.0 * static_cast<double>(eps));
}

void expect_gradient(const std::function<double()>& f, std::vector<float>& x, const std::vector<float>& analytic,
                     float eps, double tol, const char* what) {
  for (size_t i = 0; i < x.size(); ++i) {
    const double numeric = central_difference(f, x[i], eps);
    ASSERT_NEAR(analytic[i], numeric, tol * (1.0 + std::fabs(numeric))) << what << " at " << i;
  }
}

double inner(const float* a, const float* b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST(BackwardTest, RmsNormMatchesFiniteDifferences) {
  const int n = 24;
  std::vector<float> x = random_vector(n, 1), dy = random_vector(n, 2), wv = random_vector(n, 3, 0.5f, 1.5f);
  Tensor w = Tensor::from_f32(1, n, wv.data());
  std::vector<float> dx(n, 0.0f), y(n);
  rmsnorm_backward(x.data(), w, dy.data(), n, 1e-5f, dx.data());
  auto f = [&] {
    rmsnorm(y.data(), x.data(), w, n, 1e-5f);
    return inner(dy.data(), y.data(), n);
  };
  expect_gradient(f, x, dx, 1e-2f, 2e-3, "dx");
}

TEST(BackwardTest, SwiGluMatchesFiniteDifferences) {
  const int n = 32;
  std::vector<float> a = random_vector(n, 4, -4.0f, 4.0f), b = random_vector(n, 5), dh = random_vector(n, 6);
  std::vector<float> da(n), db(n);
  swiglu_backward(a.data(), b.data(), dh.data(), n, da.data(), db.data());
  auto f = [&] {
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += static_cast<double>(dh[i]) * a[i] / (1.0 + std::exp(-static_cast<double>(a[i]))) * b[i];
    return s;
  };
  expect_gradient(f, a, da, 1e-2f, 1e-3, "da");
  expect_gradient(f, b, db, 1e-2f, 1e-3, "db");
}

TEST(BackwardTest, RopeBackIsTheAdjointOfRope) {
  const int heads = 3, hd = 8, pos = 37;
  std::vector<float> inv_freq;
  for (int i = 0; i < hd / 2; ++i) inv_freq.push_back(1.0f / std::pow(10000.0f, 2.0f * i / hd));
  std::vector<float> x = random_vector(heads * hd, 7), dy = random_vector(heads * hd, 8);
  std::vector<float> rx = x, back = dy;
  rope(rx.data(), heads, hd, pos, inv_freq);
  rope(back.data(), heads, hd, -pos, inv_freq);
  // ⟨dy, R x⟩ = ⟨Rᵀ dy, x⟩ for every x: Rᵀ dy is the gradient at x.
  EXPECT_NEAR(inner(dy.data(), rx.data(), x.size()), inner(back.data(), x.data(), x.size()), 1e-5);
  rope(back.data(), heads, hd, pos, inv_freq);
  for (size_t i = 0; i < dy.size(); ++i) EXPECT_NEAR(back[i], dy[i], 1e-5f);
}

TEST(BackwardTest, GroupedQueryAttentionMatchesFiniteDifferences) {
  const int rows = 6, heads = 4, kv_heads = 2, hd = 8;
  const size_t qn = size_t{rows} * heads * hd, kvn = size_t{rows} * kv_heads * hd;
  std::vector<float> q = random_vector(qn, 9, -2.0f, 2.0f), k = random_vector(kvn, 10, -2.0f, 2.0f),
                     v = random_vector(kvn, 11), d_out = random_vector(qn, 12);
  std::vector<float> dq(qn, 0.0f), dk(kvn, 0.0f), dv(kvn, 0.0f);
  attention_backward(q.data(), k.data(), v.data(), d_out.data(), rows, heads, kv_heads, hd, dq.data(), dk.data(),
                     dv.data());
  auto f = [&] {
    std::vector<float> probs(rows), out(hd);
    double s = 0.0;
    for (int i = 0; i < rows; ++i) {
      for (int h = 0; h < heads; ++h) {
        const int kv = h / (heads / kv_heads) * hd;
        attend(&q[(i * heads + h) * hd], &k[kv], &v[kv], kv_heads * hd, i + 1, hd, probs.data(), out.data());
        s += inner(&d_out[(i * heads + h) * hd], out.data(), hd);
      }
    }
    return s;
  };
  expect_gradient(f, q, dq, 1e-2f, 2e-3, "dq");
  expect_gradient(f, k, dk, 1e-2f, 2e-3, "dk");
  expect_gradient(f, v, dv, 1e-2f, 2e-3, "dv");
}

TEST(BackwardTest, CrossEntropyMatchesFiniteDifferences) {
  const int vocab = 40, target = 17;
  std::vector<float> logits = random_vector(vocab, 13, -3.0f, 3.0f), d(vocab);
  const double loss = cross_entropy_backward(logits.data(), vocab, target, 0.5f, d.data());
  auto f = [&] {
    double sum = 0.0;
    for (float z : logits) sum += std::exp(static_cast<double>(z));
    return 0.5 * (std::log(sum) - logits[target]);
  };
  EXPECT_NEAR(loss, 2.0 * f(), 1e-5);
  expect_gradient(f, logits, d, 1e-2f, 1e-3, "dlogits");
}

TEST(BackwardTest, MatmulTransposedEqualsTheTransposedProduct) {
  const size_t rows = 48, cols = 64, n = 5;
  std::vector<float> wv = random_vector(rows * cols, 14), dy = random_vector(n * rows, 15);
  Tensor w = Tensor::from_f32(rows, cols, wv.data());
  std::vector<float> dx(n * cols);
  matmul_transposed(w, dy.data(), n, dx.data());
  for (size_t t = 0; t < n; ++t) {
    for (size_t c = 0; c < cols; ++c) {
      double expected = 0.0;
      for (size_t r = 0; r < rows; ++r) expected += static_cast<double>(wv[r * cols + c]) * dy[t * rows + r];
      ASSERT_NEAR(dx[t * cols + c], expected, 1e-4) << t << "," << c;
    }
  }
}

// The mean next-token cross-entropy of `tokens` by the ordinary forward pass, in double.
double forward_loss(Transformer& t, const std::vector<int>& tokens) {
  KvCache cache(t.config(), static_cast<int>(tokens.size()));
  Batch b;
  b.add(0, tokens.data(), static_cast<int>(tokens.size()), 0);
  std::vector<int> rows;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) rows.push_back(static_cast<int>(i));
  const int vocab = t.config().vocab_size;
  std::vector<float> logits(rows.size() * vocab);
  t.forward(b, {&cache}, rows, logits.data());
  double loss = 0.0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* z = &logits[i * vocab];
    double sum = 0.0;
    for (int v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(z[v]));
    loss += std::log(sum) - z[tokens[i + 1]];
  }
  return loss / static_cast<double>(rows.size());
}

Model gradient_test_model() {
  Model m = synthesize_for_test({.dim = 32, .hidden_dim = 48, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2,
                                 .vocab_size = 270, .seq_len = 32, .shared_classifier = false, .seed = 7});
  // Norm weights other than 1, so that the test sees them multiply.
  uint64_t seed = 100;
  for (auto& l : m.layers) {
    for (Tensor* w : {&l.attn_norm, &l.ffn_norm}) {
      std::vector<float> v = random_vector(static_cast<size_t>(w->cols), ++seed, 0.5f, 1.5f);
      std::copy(v.begin(), v.end(), w->mutable_f32());
    }
  }
  return m;
}

TEST(BackwardTest, GateAndEmbeddingGradientsMatchFiniteDifferencesEndToEnd) {
  Model m = gradient_test_model();
  Transformer t(m);
  // Gates away from 1 so that the test sees them scale the gradient too.
  std::vector<std::vector<float>> gates = {{1.0f, 0.5f, 1.5f, 0.0f}, {0.8f, 1.0f, 1.2f, 1.0f}};
  t.set_head_mask(gates);
  const std::vector<int> tokens = {1, 40, 77, 3, 200, 41, 150, 9, 260, 33, 5, 120};
  GateGradients g = gate_gradients(t, tokens);
  EXPECT_NEAR(g.loss, forward_loss(t, tokens), 1e-5);

  const float eps = 1e-2f;
  double largest = 0.0;
  for (int l = 0; l < 2; ++l) {
    double by_rows = 0.0;
    for (int h = 0; h < 4; ++h) {
      auto f = [&] {
        t.set_head_mask(gates);
        return forward_loss(t, tokens);
      };
      const double numeric = central_difference(f, gates[l][h], eps);
      EXPECT_NEAR(g.gate[l][h], numeric, 1e-4 + 1e-2 * std::fabs(numeric)) << "layer " << l << " head " << h;
      largest = std::max(largest, std::fabs(numeric));
    }
    for (float term : g.by_row[l]) by_rows += term;
    double total = 0.0;
    for (double v : g.gate[l]) total += v;
    EXPECT_NEAR(by_rows, total, 1e-5);
  }
  EXPECT_GT(largest, 1e-2);  // the check above is not vacuous
  t.set_head_mask(gates);

  // dL/dx_0 at row i is the gradient at the embedding of tokens[i] (each appears once).
  Tensor& embedding = m.token_embedding;
  const int dim = m.config.dim;
  for (int i : {0, 4, 11}) {
    for (int d = 0; d < dim; d += 5) {
      float& e = embedding.mutable_f32()[int64_t{tokens[i]} * dim + d];
      const double numeric = central_difference([&] { return forward_loss(t, tokens); }, e, eps);
      EXPECT_NEAR(g.embedding[int64_t{i} * dim + d], numeric, 1e-4 + 1e-2 * std::fabs(numeric))
          << "row " << i << " component " << d;
    }
  }
}

TEST(BackwardTest, RandomProjectionGateGradientsMatchFiniteDifferences) {
  Model m = gradient_test_model();
  Transformer t(m);
  std::vector<std::vector<float>> gates = {{1.0f, 1.0f, 1.0f, 1.0f}, {1.0f, 1.0f, 1.0f, 1.0f}};
  const std::vector<int> tokens = {1, 40, 77, 3, 200, 41, 150, 9};
  t.set_head_mask(gates);
  GateGradients g = gate_gradients(t, tokens, Objective::RandomProjection, 3);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) {
      auto f = [&] {
        t.set_head_mask(gates);
        return gate_gradients(t, tokens, Objective::RandomProjection, 3).loss;
      };
      const double numeric = central_difference(f, gates[l][h], 1e-2f);
      EXPECT_NEAR(g.gate[l][h], numeric, 1e-3 + 1e-2 * std::fabs(numeric)) << "layer " << l << " head " << h;
    }
  }
}

TEST(BackwardTest, ProjectionProbesFromOneForwardPassEqualSeparatePasses) {
  Model m = gradient_test_model();
  Transformer t(m);
  const std::vector<int> tokens = {1, 40, 77, 3, 200, 41, 150, 9};
  std::vector<GateGradients> probes = projection_gate_gradients(t, tokens, 3, 11);
  ASSERT_EQ(probes.size(), 3u);
  for (int p = 0; p < 3; ++p) {
    GateGradients alone = gate_gradients(t, tokens, Objective::RandomProjection, 11 + p);
    EXPECT_EQ(probes[p].gate, alone.gate) << "probe " << p;
    EXPECT_EQ(probes[p].loss, alone.loss) << "probe " << p;
  }
  // Different seeds draw different probes.
  EXPECT_NE(probes[0].gate, probes[1].gate);
}

// Past the first closed gate, the distance from the unpruned logits has a gradient; it must be
// the derivative of ½ Σ_rows ‖P (logits − reference)‖², and 0 at the reference itself.
TEST(BackwardTest, DistanceToReferenceLogitsMatchesFiniteDifferences) {
  Model m = gradient_test_model();
  Transformer t(m);
  const std::vector<int> tokens = {1, 40, 77, 3, 200, 41, 150, 9};
  const std::vector<float> reference = sequence_logits(t, tokens);
  const int vocab = m.config.vocab_size;
  auto distance = [&] {
    const std::vector<float> logits = sequence_logits(t, tokens);
    double d = 0.0;
    for (size_t row = 0; row < tokens.size(); ++row) {
      double mean = 0.0;
      for (int v = 0; v < vocab; ++v) mean += logits[row * vocab + v] - reference[row * vocab + v];
      mean /= vocab;
      for (int v = 0; v < vocab; ++v) {
        const double e = logits[row * vocab + v] - reference[row * vocab + v] - mean;
        d += 0.5 * e * e;
      }
    }
    return d;
  };
  std::vector<GateGradients> at_reference = projection_gate_gradients(t, tokens, 1, 5, &reference);
  ASSERT_EQ(at_reference.size(), 2u);
  EXPECT_EQ(at_reference.back().loss, 0.0);
  for (const auto& layer : at_reference.back().gate) {
    for (double v : layer) EXPECT_EQ(v, 0.0);
  }

  std::vector<std::vector<float>> gates = {{1.0f, 0.0f, 1.0f, 1.0f}, {1.0f, 1.0f, 0.0f, 0.0f}};
  t.set_head_mask(gates);
  std::vector<GateGradients> g = projection_gate_gradients(t, tokens, 1, 5, &reference);
  EXPECT_NEAR(g.back().loss, distance(), 1e-5 * (1.0 + distance()));
  EXPECT_EQ(g.front().gate, gate_gradients(t, tokens, Objective::RandomProjection, 5).gate);
  double largest = 0.0;
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) {
      auto f = [&] {
        t.set_head_mask(gates);
        return distance();
      };
      const double numeric = central_difference(f, gates[l][h], 1e-2f);
      EXPECT_NEAR(g.back().gate[l][h], numeric, 1e-3 + 1e-2 * std::fabs(numeric)) << "layer " << l << " head " << h;
      largest = std::max(largest, std::fabs(numeric));
    }
  }
  EXPECT_GT(largest, 1e-2);  // the check above is not vacuous
}

TEST(BackwardTest, RecordingATapeLeavesTheForwardPassUnchanged) {
  Model m = gradient_test_model();
  Transformer t(m);
  const std::vector<int> tokens = {1, 40, 77, 3, 200, 41};
  const double plain = forward_loss(t, tokens);
  ForwardTape tape;
  t.set_tape(&tape);
  EXPECT_EQ(forward_loss(t, tokens), plain);
  ASSERT_EQ(tape.layers.size(), 2u);
  EXPECT_EQ(tape.layers[1].heads.size(), tokens.size() * 4 * m.config.head_dim);
}

}  // namespace
}  // namespace lv
