#pragma once
// Factories building each built-in layer from its Keras config; the registry
// (src/saving/registry.cpp) maps class names to these.
#include <nlohmann/json_fwd.hpp>

#include "keras/layer.h"
#include "keras/saving.h"

namespace keras::layers {

#define KERAS_LAYER_FACTORY(fn) Layer fn(const nlohmann::json& config, const ConfigContext& ctx)

// core
KERAS_LAYER_FACTORY(input_layer_from_config);
KERAS_LAYER_FACTORY(dense_from_config);
KERAS_LAYER_FACTORY(activation_from_config);
KERAS_LAYER_FACTORY(dropout_from_config);
KERAS_LAYER_FACTORY(spatial_dropout1d_from_config);
KERAS_LAYER_FACTORY(spatial_dropout2d_from_config);
KERAS_LAYER_FACTORY(spatial_dropout3d_from_config);
KERAS_LAYER_FACTORY(embedding_from_config);
KERAS_LAYER_FACTORY(masking_from_config);
KERAS_LAYER_FACTORY(identity_from_config);
// activations
KERAS_LAYER_FACTORY(relu_from_config);
KERAS_LAYER_FACTORY(leaky_relu_from_config);
KERAS_LAYER_FACTORY(prelu_from_config);
KERAS_LAYER_FACTORY(elu_from_config);
KERAS_LAYER_FACTORY(softmax_from_config);
KERAS_LAYER_FACTORY(thresholded_relu_from_config);
// convolutional
KERAS_LAYER_FACTORY(conv1d_from_config);
KERAS_LAYER_FACTORY(conv2d_from_config);
KERAS_LAYER_FACTORY(depthwise_conv1d_from_config);
KERAS_LAYER_FACTORY(depthwise_conv2d_from_config);
KERAS_LAYER_FACTORY(separable_conv1d_from_config);
KERAS_LAYER_FACTORY(separable_conv2d_from_config);
KERAS_LAYER_FACTORY(conv1d_transpose_from_config);
KERAS_LAYER_FACTORY(conv2d_transpose_from_config);
// pooling
KERAS_LAYER_FACTORY(max_pooling1d_from_config);
KERAS_LAYER_FACTORY(max_pooling2d_from_config);
KERAS_LAYER_FACTORY(average_pooling1d_from_config);
KERAS_LAYER_FACTORY(average_pooling2d_from_config);
KERAS_LAYER_FACTORY(global_average_pooling1d_from_config);
KERAS_LAYER_FACTORY(global_average_pooling2d_from_config);
KERAS_LAYER_FACTORY(global_max_pooling1d_from_config);
KERAS_LAYER_FACTORY(global_max_pooling2d_from_config);
// reshaping
KERAS_LAYER_FACTORY(flatten_from_config);
KERAS_LAYER_FACTORY(reshape_from_config);
KERAS_LAYER_FACTORY(permute_from_config);
KERAS_LAYER_FACTORY(repeat_vector_from_config);
KERAS_LAYER_FACTORY(zero_padding1d_from_config);
KERAS_LAYER_FACTORY(zero_padding2d_from_config);
KERAS_LAYER_FACTORY(cropping1d_from_config);
KERAS_LAYER_FACTORY(cropping2d_from_config);
KERAS_LAYER_FACTORY(up_sampling1d_from_config);
KERAS_LAYER_FACTORY(up_sampling2d_from_config);
// normalization
KERAS_LAYER_FACTORY(batch_normalization_from_config);
KERAS_LAYER_FACTORY(layer_normalization_from_config);
KERAS_LAYER_FACTORY(group_normalization_from_config);
KERAS_LAYER_FACTORY(unit_normalization_from_config);
// regularization
KERAS_LAYER_FACTORY(gaussian_noise_from_config);
KERAS_LAYER_FACTORY(gaussian_dropout_from_config);
KERAS_LAYER_FACTORY(alpha_dropout_from_config);
KERAS_LAYER_FACTORY(activity_regularization_from_config);
// preprocessing
KERAS_LAYER_FACTORY(rescaling_from_config);
KERAS_LAYER_FACTORY(normalization_from_config);
// merging
KERAS_LAYER_FACTORY(concatenate_from_config);
KERAS_LAYER_FACTORY(add_from_config);
KERAS_LAYER_FACTORY(subtract_from_config);
KERAS_LAYER_FACTORY(multiply_from_config);
KERAS_LAYER_FACTORY(average_from_config);
KERAS_LAYER_FACTORY(maximum_from_config);
KERAS_LAYER_FACTORY(minimum_from_config);
KERAS_LAYER_FACTORY(dot_from_config);
KERAS_LAYER_FACTORY(merge_from_config);
// rnn
KERAS_LAYER_FACTORY(simple_rnn_from_config);
KERAS_LAYER_FACTORY(lstm_from_config);
KERAS_LAYER_FACTORY(gru_from_config);
KERAS_LAYER_FACTORY(cudnn_lstm_from_config);
KERAS_LAYER_FACTORY(cudnn_gru_from_config);
KERAS_LAYER_FACTORY(rnn_from_config);
KERAS_LAYER_FACTORY(conv_lstm2d_from_config);
KERAS_LAYER_FACTORY(bidirectional_from_config);
KERAS_LAYER_FACTORY(time_distributed_from_config);

#undef KERAS_LAYER_FACTORY

}  // namespace keras::layers
