#pragma once
// For tests: a model with random weights from `spec`, failing the current test if the spec
// is invalid. Write specs with designated initializers, e.g. {.dim = 32, .n_layers = 2}.
#include <gtest/gtest.h>

#include "lightvault/model/synth.h"

namespace lv {

inline Model synthesize_for_test(const SynthSpec& spec) {
  auto m = synthesize(spec);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return std::move(m).value();
}

}  // namespace lv
