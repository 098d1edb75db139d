// End-to-end tests of `lightvault compress` on a real pretrained model (or a synthetic one
// where the shared models are absent): the report's figures are reproduced by `lightvault
// eval` on the written file, and bad plans and overlapping texts are refused.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "subprocess.h"

namespace lv {
namespace {

using testing_support::Completed;
using testing_support::read_all;
using testing_support::run_lightvault;
using testing_support::temp_path;
namespace fs = std::filesystem;
using nlohmann::json;

class CompressTest : public testing::Test {
 protected:
  void SetUp() override {
    const std::string shared = std::string(LV_SHARED_MODELS);
    calib_ = temp_path("calib.txt");
    eval_ = temp_path("eval.txt");
    if (fs::exists(shared + "/stories260K/stories260K.bin")) {
      model_ = shared + "/stories260K/stories260K.bin";
      tokenizer_ = shared + "/stories260K/tok512.bin";
      // Disjoint halves of the text: calibration from the start, evaluation from the end.
      std::string text = read_all(shared + "/text/tinystories_valid_a.txt");
      std::ofstream(calib_) << text.substr(0, 40000);
      std::ofstream(eval_) << text.substr(text.size() - 40000);
    } else {
      model_ = temp_path("synth.bin");
      tokenizer_ = temp_path("synth.tok.bin");
      Completed c = run_lightvault({"synth", "--dim", "64", "--hidden", "96", "--layers", "3", "--heads", "8",
                                    "--kv-heads", "4", "--vocab", "400", "--ctx", "128", "-o", model_, "--tokenizer-out", tokenizer_});
      ASSERT_EQ(c.exit_code, 0) << c.err;
      std::ostringstream a, b;
      for (int i = 0; i < 600; ++i) a << "calibration line " << i << " a b c d e f g\n";
      for (int i = 0; i < 600; ++i) b << "evaluation line " << i << " h i j k l m n\n";
      std::ofstream(calib_) << a.str();
      std::ofstream(eval_) << b.str();
    }
  }
  Completed compress(std::vector<std::string> extra) {
    std::vector<std::string> args = {"compress", model_, "--tokenizer", tokenizer_, "--calib", calib_, "--eval", eval_,
                                     "--ctx", "64", "--calib-chunks", "6", "--eval-chunks", "12", "--no-speed"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_lightvault(args);
  }
  std::string model_, tokenizer_, calib_, eval_;
};

TEST_F(CompressTest, ReportIsReproducedByEvalOnTheOutput) {
  const std::string out = temp_path("pruned.gguf");
  Completed c = compress({"-o", out, "--importance", "ablation", "--ratio", "0.25", "--quant", "channel",
                          "--curve-chunks", "4", "--compare-scorers"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  ASSERT_TRUE(fs::exists(out + ".report.html"));
  ASSERT_TRUE(fs::exists(out + ".plan.json"));
  json report = json::parse(read_all(out + ".report.json"));
  EXPECT_LT(report["after"]["parameters"].get<int64_t>(), report["before"]["parameters"].get<int64_t>());
  EXPECT_LT(report["after"]["attention_parameters"].get<int64_t>(), report["before"]["attention_parameters"].get<int64_t>());
  EXPECT_GT(report["removed_heads"].get<int>(), 0);
  for (const char* scorer : {"magnitude", "ablation", "activation", "random", "gradient"}) {
    EXPECT_TRUE(report["retention_curves"].contains(scorer)) << scorer;
    EXPECT_TRUE(report["rank_agreement_with_ablation"].contains(scorer)) << scorer;
  }
  EXPECT_DOUBLE_EQ(report["rank_agreement_with_ablation"]["ablation"].get<double>(), 1.0);

  Completed e = run_lightvault({"eval", out, "--text", eval_, "--ctx", "64", "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  json eval = json::parse(e.out);
  const json& after = report["after"];
  // The report evaluated at most 12 chunks; evaluate the same chunks.
  if (eval["chunks"].get<int>() > 12) {
    e = run_lightvault({"eval", out, "--text", eval_, "--ctx", "64", "--json", "--max-chunks", "12"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    eval = json::parse(e.out);
  }
  EXPECT_NEAR(eval["perplexity"].get<double>(), after["perplexity"].get<double>(), 1e-9 * after["perplexity"].get<double>());
  EXPECT_DOUBLE_EQ(eval["top1_accuracy"].get<double>(), after["top1_accuracy"].get<double>());

  Completed inspect = run_lightvault({"inspect", out, "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  json info = json::parse(inspect.out);
  EXPECT_EQ(info["parameters"].get<int64_t>(), after["parameters"].get<int64_t>());
}

TEST_F(CompressTest, GradientScoresAloneByDefaultAndRefinesTheBoundaryByAblation) {
  const std::string out = temp_path("grad.gguf");
  Completed c = compress({"-o", out, "--importance", "gradient", "--ratio", "0.25", "--refine", "4"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("time taken"), std::string::npos) << c.out;
  json report = json::parse(read_all(out + ".report.json"));
  ASSERT_EQ(report["importance_scores"].size(), 1u);  // no other scorer without --compare-scorers
  EXPECT_TRUE(report["importance_scores"].contains("gradient"));
  EXPECT_TRUE(report["retention_curves"].empty());
  std::vector<std::string> steps;
  for (const auto& s : report["steps"]) steps.push_back(s["step"].get<std::string>());
  EXPECT_NE(std::find(steps.begin(), steps.end(), "scoring heads (gradient)"), steps.end());
  EXPECT_NE(std::find(steps.begin(), steps.end(), "refining 4 heads by ablation"), steps.end());
  EXPECT_GT(report["removed_heads"].get<int>(), 0);

  Completed bad = compress({"-o", temp_path("never.gguf"), "--threshold", "0.1", "--refine", "4"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.last_err_line().find("--refine"), std::string::npos) << bad.err;
}

TEST_F(CompressTest, QuantizeOnlyKeepsEveryHead) {
  const std::string out = temp_path("q.gguf");
  Completed c = compress({"-o", out, "--quant", "block32"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  json report = json::parse(read_all(out + ".report.json"));
  EXPECT_EQ(report["removed_heads"].get<int>(), 0);
  EXPECT_EQ(report["after"]["parameters"].get<int64_t>(), report["before"]["parameters"].get<int64_t>());
  EXPECT_LT(report["after"]["file_size"].get<int64_t>(), report["before"]["file_size"].get<int64_t>());
  EXPECT_GT(report["after"]["top1_agreement"].get<double>(), 0.9);
}

TEST_F(CompressTest, ReportsTheWeightsLeftInFloat) {
  const std::string out = temp_path("kf.gguf");
  Completed c = compress({"-o", out, "--quant", "channel", "--keep-float", "attention"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  json report = json::parse(read_all(out + ".report.json"));
  Completed inspect = run_lightvault({"inspect", out, "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const int layers = json::parse(inspect.out)["n_layers"].get<int>();
  int attention = 0;
  for (const auto& w : report["float_weights"]) {
    const std::string name = w.get<std::string>();
    if (name.find(".attn_") != std::string::npos) {
      EXPECT_NE(name.find("(--keep-float)"), std::string::npos) << name;
      ++attention;
    } else {
      // Everything else left in float must be a row length Q8_0 cannot hold.
      EXPECT_NE(name.find("not a multiple of 32"), std::string::npos) << name;
    }
  }
  EXPECT_EQ(attention, 4 * layers);

  Completed bad = compress({"-o", temp_path("kf2.gguf"), "--keep-float", "embeddings"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.last_err_line().find("--keep-float"), std::string::npos) << bad.err;
}

TEST_F(CompressTest, RefusesOverlappingTexts) {
  Completed c = run_lightvault({"compress", model_, "--tokenizer", tokenizer_, "--calib", eval_, "--eval", eval_,
                                "-o", temp_path("x.gguf"), "--ratio", "0.1", "--no-speed"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.last_err_line().find("must not overlap"), std::string::npos) << c.err;
}

TEST_F(CompressTest, RefusesABadPlan) {
  const std::string plan = temp_path("bad.plan.json");
  const std::string out = temp_path("p.gguf");
  Completed c = compress({"-o", out, "--importance", "magnitude", "--ratio", "0.1"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  json p = json::parse(read_all(out + ".plan.json"));
  int heads = p["model"]["heads"][0].get<int>();
  std::vector<int> all;
  for (int h = 0; h < heads; ++h) all.push_back(h);
  p["layers"][0]["remove_heads"] = all;
  std::ofstream(plan) << p.dump();
  Completed bad = compress({"-o", temp_path("never.gguf"), "--plan", plan});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.last_err_line().find(plan + ": removes every head (layer 0)"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(temp_path("never.gguf")));
}

}  // namespace
}  // namespace lv
