#include "keras/applications.h"

#include "keras/errors.h"
#include "keras/layers/convolutional.h"
#include "keras/layers/core.h"
#include "keras/layers/pooling.h"
#include "keras/layers/reshaping.h"

namespace keras::applications {

namespace {

// Keras's obtain_input_shape for channels_last without pretrained weights: any size >= 32.
Shape vgg_input_shape(const VGG16Options& o) {
  Shape s = o.input_shape.value_or(o.include_top ? Shape{224, 224, 3} : Shape{None, None, 3});
  if (s.rank() != 3) throw ValueError("`input_shape` must be a tuple of three integers. Received: input_shape=" + s.str());
  for (int i = 0; i < 2; ++i)
    if (s[i] >= 0 && s[i] < 32)
      throw ValueError("Input size must be at least 32x32; Received: input_shape=" + s.str());
  if (o.include_top && !s.fully_defined())
    throw ValueError("If `include_top` is True, you should specify a static `input_shape`. Received: input_shape=" +
                     s.str());
  return s;
}

}  // namespace

Model VGG16(const VGG16Options& o) {
  if (!o.pooling.empty() && o.pooling != "avg" && o.pooling != "max")
    throw ValueError("`pooling` must be None, \"avg\" or \"max\". Received: pooling=" + o.pooling);
  KerasTensor inputs = Input(vgg_input_shape(o));
  KerasTensor x = inputs;
  const int convs_per_block[] = {2, 2, 3, 3, 3};
  const Dim filters[] = {64, 128, 256, 512, 512};
  for (int b = 0; b < 5; ++b) {
    std::string block = "block" + std::to_string(b + 1);
    for (int c = 0; c < convs_per_block[b]; ++c)
      x = layers::Conv2D({.filters = filters[b], .kernel_size = 3, .padding = "same", .activation = "relu",
                          .name = block + "_conv" + std::to_string(c + 1)})(x);
    x = layers::MaxPooling2D({.pool_size = 2, .strides = 2, .name = block + "_pool"})(x);
  }
  if (o.include_top) {
    x = layers::Flatten({.name = "flatten"})(x);
    x = layers::Dense({.units = 4096, .activation = "relu", .name = "fc1"})(x);
    x = layers::Dense({.units = 4096, .activation = "relu", .name = "fc2"})(x);
    x = layers::Dense({.units = o.classes, .activation = o.classifier_activation, .name = "predictions"})(x);
  } else if (o.pooling == "avg") {
    x = layers::GlobalAveragePooling2D()(x);
  } else if (o.pooling == "max") {
    x = layers::GlobalMaxPooling2D()(x);
  }
  return Model(inputs, x, o.name);
}

}  // namespace keras::applications
