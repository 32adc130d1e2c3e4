// CuDNNLSTM / CuDNNGRU layers in Keras 2 .h5 files (tests/fixtures/cudnn, from
// tests/fixtures/generate/torch/gen_cudnn.py): their weights, written in CuDNN's form by Keras's
// own conversion, load into LSTM / GRU(reset_after=True) and give PyTorch float64's outputs.
#include "keras/io.h"
#include "test_helpers.h"

namespace keras {
namespace {

class CuDNN : public ::testing::TestWithParam<std::string> {};

TEST_P(CuDNN, LoadsAsKerasConvertsItAndPredicts) {
  auto dir = testing::source_dir() / "tests" / "fixtures" / "cudnn";
  Model m = load_model(dir / (GetParam() + ".h5"));
  Tensor got = m.predict(io::load_npy(dir / (GetParam() + "_input.npy")));
  Tensor want = io::load_npy(dir / (GetParam() + "_expected.npy"));
  EXPECT_TRUE(testing::AllClose(got, want, 1e-5, 1e-4)) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Files, CuDNN,
                         ::testing::Values("cudnn_lstm", "cudnn_lstm_backwards_last", "cudnn_gru", "cudnn_gru_last"));

}  // namespace
}  // namespace keras
