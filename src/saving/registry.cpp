#include "saving/registry.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "keras/regularizers.h"
#include "layers/from_config.h"

namespace keras::saving {

namespace {

std::mutex registry_mutex;

// Built-in layers by Keras class name (aliases included). Keep sorted by category.
std::map<std::string, LayerFactory>& table() {
  static std::map<std::string, LayerFactory> t = {
      // core
      {"InputLayer", layers::input_layer_from_config},
      {"Dense", layers::dense_from_config},
      {"Activation", layers::activation_from_config},
      {"Dropout", layers::dropout_from_config},
      {"SpatialDropout1D", layers::spatial_dropout1d_from_config},
      {"SpatialDropout2D", layers::spatial_dropout2d_from_config},
      {"SpatialDropout3D", layers::spatial_dropout3d_from_config},
      {"Embedding", layers::embedding_from_config},
      {"Masking", layers::masking_from_config},
      // activations
      {"ReLU", layers::relu_from_config},
      {"LeakyReLU", layers::leaky_relu_from_config},
      {"PReLU", layers::prelu_from_config},
      {"ELU", layers::elu_from_config},
      {"Softmax", layers::softmax_from_config},
      {"ThresholdedReLU", layers::thresholded_relu_from_config},
      // convolutional
      {"Conv1D", layers::conv1d_from_config},
      {"Convolution1D", layers::conv1d_from_config},
      {"AtrousConvolution1D", layers::conv1d_from_config},  // Keras 1: dilation as atrous_rate
      {"Conv2D", layers::conv2d_from_config},
      {"Convolution2D", layers::conv2d_from_config},
      {"AtrousConvolution2D", layers::conv2d_from_config},
      {"DepthwiseConv1D", layers::depthwise_conv1d_from_config},
      {"DepthwiseConv2D", layers::depthwise_conv2d_from_config},
      {"SeparableConv1D", layers::separable_conv1d_from_config},
      {"SeparableConvolution1D", layers::separable_conv1d_from_config},
      {"SeparableConv2D", layers::separable_conv2d_from_config},
      {"SeparableConvolution2D", layers::separable_conv2d_from_config},
      {"Conv1DTranspose", layers::conv1d_transpose_from_config},
      {"Convolution1DTranspose", layers::conv1d_transpose_from_config},
      {"Conv2DTranspose", layers::conv2d_transpose_from_config},
      {"Convolution2DTranspose", layers::conv2d_transpose_from_config},
      {"Deconvolution2D", layers::conv2d_transpose_from_config},
      // pooling
      {"MaxPooling1D", layers::max_pooling1d_from_config},
      {"MaxPool1D", layers::max_pooling1d_from_config},
      {"MaxPooling2D", layers::max_pooling2d_from_config},
      {"MaxPool2D", layers::max_pooling2d_from_config},
      {"AveragePooling1D", layers::average_pooling1d_from_config},
      {"AvgPool1D", layers::average_pooling1d_from_config},
      {"AveragePooling2D", layers::average_pooling2d_from_config},
      {"AvgPool2D", layers::average_pooling2d_from_config},
      {"GlobalAveragePooling1D", layers::global_average_pooling1d_from_config},
      {"GlobalAvgPool1D", layers::global_average_pooling1d_from_config},
      {"GlobalAveragePooling2D", layers::global_average_pooling2d_from_config},
      {"GlobalAvgPool2D", layers::global_average_pooling2d_from_config},
      {"GlobalMaxPooling1D", layers::global_max_pooling1d_from_config},
      {"GlobalMaxPool1D", layers::global_max_pooling1d_from_config},
      {"GlobalMaxPooling2D", layers::global_max_pooling2d_from_config},
      {"GlobalMaxPool2D", layers::global_max_pooling2d_from_config},
      // normalization
      {"BatchNormalization", layers::batch_normalization_from_config},
      {"BatchNormalizationV1", layers::batch_normalization_from_config},
      {"BatchNormalizationV2", layers::batch_normalization_from_config},
      {"SyncBatchNormalization", layers::batch_normalization_from_config},
      {"LayerNormalization", layers::layer_normalization_from_config},
      {"GroupNormalization", layers::group_normalization_from_config},
      {"UnitNormalization", layers::unit_normalization_from_config},
      {"GaussianNoise", layers::gaussian_noise_from_config},
      {"GaussianDropout", layers::gaussian_dropout_from_config},
      {"AlphaDropout", layers::alpha_dropout_from_config},
      {"ActivityRegularization", layers::activity_regularization_from_config},
      {"Rescaling", layers::rescaling_from_config},
      {"Normalization", layers::normalization_from_config},
      {"Identity", layers::identity_from_config},
      // reshaping
      {"Flatten", layers::flatten_from_config},
      {"Reshape", layers::reshape_from_config},
      {"Permute", layers::permute_from_config},
      {"RepeatVector", layers::repeat_vector_from_config},
      {"ZeroPadding1D", layers::zero_padding1d_from_config},
      {"ZeroPadding2D", layers::zero_padding2d_from_config},
      {"Cropping1D", layers::cropping1d_from_config},
      {"Cropping2D", layers::cropping2d_from_config},
      {"UpSampling1D", layers::up_sampling1d_from_config},
      {"UpSampling2D", layers::up_sampling2d_from_config},
      // merging
      {"Concatenate", layers::concatenate_from_config},
      {"Add", layers::add_from_config},
      {"Subtract", layers::subtract_from_config},
      {"Multiply", layers::multiply_from_config},
      {"Average", layers::average_from_config},
      {"Maximum", layers::maximum_from_config},
      {"Minimum", layers::minimum_from_config},
      {"Dot", layers::dot_from_config},
      {"Merge", layers::merge_from_config},  // Keras 1: one class, `mode` picks the operation
      // rnn
      {"SimpleRNN", layers::simple_rnn_from_config},
      {"LSTM", layers::lstm_from_config},
      {"GRU", layers::gru_from_config},
      {"CuDNNLSTM", layers::cudnn_lstm_from_config},
      {"CuDNNGRU", layers::cudnn_gru_from_config},
      {"RNN", layers::rnn_from_config},
      {"ConvLSTM2D", layers::conv_lstm2d_from_config},
      {"Bidirectional", layers::bidirectional_from_config},
      {"TimeDistributed", layers::time_distributed_from_config},
  };
  return t;
}

// A layer config's <weight>_regularizer, <weight>_constraint and activity_regularizer entries
// (Keras 1: W_, U_ and b_ for kernel, recurrent and bias), whatever the layer.
void read_weight_rules(const nlohmann::json& config, LayerImpl& layer) {
  if (!config.is_object()) return;
  static const std::map<std::string, std::string> keras1 = {{"W", "kernel"}, {"U", "recurrent"}, {"b", "bias"}};
  for (const auto& [key, value] : config.items()) {
    if (value.is_null()) continue;
    auto weight = [&](size_t suffix) {
      std::string w = key.substr(0, key.size() - suffix);
      auto it = keras1.find(w);
      return it == keras1.end() ? w : it->second;
    };
    auto ends_with = [&](const std::string& s) {
      return key.size() > s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
    };
    if (key == "activity_regularizer")
      layer.set_activity_regularizer(regularizers::deserialize(value));
    else if (ends_with("_regularizer"))
      layer.set_regularizer(weight(12), regularizers::deserialize(value));
    else if (ends_with("_constraint"))
      layer.set_constraint(weight(11), constraints::deserialize(value));
  }
}

}  // namespace

Layer from_factory(const LayerFactory& factory, const nlohmann::json& config, const ConfigContext& ctx) {
  Layer layer = factory(config, ctx);
  read_weight_rules(config, *layer.impl());
  return layer;
}

const LayerFactory* find_layer_factory(const std::string& class_name) {
  std::lock_guard lock(registry_mutex);
  auto it = table().find(class_name);
  return it == table().end() ? nullptr : &it->second;
}

}  // namespace keras::saving

namespace keras {

void register_layer(const std::string& class_name, LayerFactory factory) {
  std::lock_guard lock(saving::registry_mutex);
  saving::table()[class_name] = std::move(factory);
}

}  // namespace keras
