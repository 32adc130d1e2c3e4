// keras::applications::VGG16 against Keras's published architecture numbers.
#include "test_helpers.h"

namespace keras {
namespace {

TEST(VGG16, BaseWithoutTopHasKerasParamCountAndNames) {
  clear_session();
  Model base = applications::VGG16({.include_top = false, .input_shape = Shape{128, 128, 3}});
  EXPECT_EQ(base.name(), "vgg16");
  EXPECT_EQ(base.count_params(), 14714688);  // keras.io: VGG16 without top
  EXPECT_EQ(base.outputs()[0].shape(), (Shape{None, 4, 4, 512}));
  auto layers = base.layers();
  ASSERT_EQ(layers.size(), 19u);  // input + 13 convs + 5 pools
  EXPECT_EQ(layers[1].name(), "block1_conv1");
  EXPECT_EQ(layers[18].name(), "block5_pool");
}

TEST(VGG16, TopAndPoolingVariants) {
  Model top = applications::VGG16({.input_shape = Shape{32, 32, 3}, .classes = 10});
  // Flatten gives 1*1*512; fc1 512*4096+4096, fc2 4096*4096+4096, predictions 4096*10+10.
  EXPECT_EQ(top.count_params(), 14714688 + 2101248 + 16781312 + 40970);
  EXPECT_EQ(top.outputs()[0].shape(), (Shape{None, 10}));
  Model avg = applications::VGG16({.include_top = false, .pooling = "avg"});
  EXPECT_EQ(avg.outputs()[0].shape(), (Shape{None, 512}));
  EXPECT_THROW(applications::VGG16({.input_shape = Shape{16, 16, 3}}), ValueError);
  EXPECT_THROW(applications::VGG16({.include_top = false, .pooling = "sum"}), ValueError);
}

}  // namespace
}  // namespace keras
