#include "lightvault/hub/service/evaluation_files.h"

#include <gtest/gtest.h>

namespace lv::hub {
namespace {

using json = nlohmann::json;

TEST(EvaluationFiles, RecognizesReportsAndEvalResultsByName) {
  EXPECT_TRUE(is_evaluation_file("out.report.json"));
  EXPECT_TRUE(is_evaluation_file("eval.json"));
  EXPECT_TRUE(is_evaluation_file("results/model.eval.json"));
  EXPECT_FALSE(is_evaluation_file("out.report.html"));
  EXPECT_FALSE(is_evaluation_file("config.json"));
}

TEST(EvaluationFiles, CompressionReportFigures) {
  json report = {{"input", "/home/alice/models/stories260K.bin"},
                 {"evaluation", "/tmp/eval/tinystories.txt"},
                 {"importance", "ablation"},
                 {"removed_heads", 8},
                 {"total_heads", 40},
                 {"plan", {{"layers", json::array()}}},
                 {"before", {{"perplexity", 5.25}, {"top1_accuracy", 0.41}, {"parameters", 260000}, {"mean_nll", 1.6}}},
                 {"after", {{"perplexity", 5.5}, {"top1_agreement", 0.9}, {"kl_divergence", 0.01}, {"file_size", 300000}}}};
  auto f = evaluation_figures("m.report.json", report.dump());
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["kind"], "compression");
  EXPECT_EQ((*f)["source"], "m.report.json");
  // File names only: the compressing machine's folders are neither useful nor the hub's to show.
  EXPECT_EQ((*f)["input"], "stories260K.bin");
  EXPECT_EQ((*f)["evaluation_text"], "tinystories.txt");
  EXPECT_EQ((*f)["removed_heads"], 8);
  EXPECT_EQ((*f)["before"], json({{"perplexity", 5.25}, {"top1_accuracy", 0.41}, {"parameters", 260000}}));
  EXPECT_EQ((*f)["after"]["top1_agreement"], 0.9);
  EXPECT_FALSE(f->contains("plan"));
}

TEST(EvaluationFiles, EvalResultFigures) {
  auto f = evaluation_figures("eval.json", R"({"ctx":256,"perplexity":4.2,"top1_accuracy":0.5,"seconds":3})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["kind"], "eval");
  EXPECT_EQ((*f)["ctx"], 256);
  EXPECT_FALSE(f->contains("seconds"));
}

TEST(EvaluationFiles, BadFilesAreErrorsNamingTheFile) {
  for (const std::string& text : {std::string("{nope"), std::string("[1,2]"), std::string("{\"name\":\"x\"}"),
                                  std::string("{\"before\":3,\"after\":[]}"), std::string(100, '[') + std::string(100, ']')}) {
    auto f = evaluation_figures("x.eval.json", text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.error().message.rfind("x.eval.json: ", 0), 0u) << f.error().message;
  }
}

}  // namespace
}  // namespace lv::hub
