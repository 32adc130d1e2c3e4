#pragma once
// What the model-file readers need to know about the recurrent layers and the wrappers.
#include <string>
#include <vector>

#include "keras/layer.h"

namespace keras::layers::rnn {

// Keras 2's preprocess_weights_for_loading for these layers (keras/engine/saving.py@2.2.4):
// Keras 1 files store an LSTM's weights per gate, 12 arrays W_i, U_i, b_i, W_c, U_c, b_c,
// W_f, U_f, b_f, W_o, U_o, b_o (consume_less="cpu"/"mem"), and a GRU's as 9 (z, r, h); they
// are joined into kernel, recurrent_kernel, bias in the gate order i, f, c, o / z, r, h.
// Bidirectional splits its list in halves (forward, backward), TimeDistributed passes it to
// its layer. Any other layer, or weights already in the current form, come back unchanged.
// Apply it to the weights of a layer read from a Keras 1 file, before set_weights().
std::vector<Tensor> convert_keras1_weights(const LayerImpl& layer, std::vector<Tensor> weights);

// Keras 2's _convert_rnn_weights (keras/engine/saving.py@2.2.4) from CuDNN's form: weights of a
// CuDNNLSTM (bias of 8u: input and recurrent biases) or CuDNNGRU (bias of 6u) loaded into an
// LSTM or GRU(reset_after=True): each gate's input kernel from CuDNN's layout
// (kernel.T.reshape(kernel.shape, order="F")), each gate's recurrent kernel transposed, the
// LSTM's two biases summed, the GRU's reshaped to (2, 3u). Other weights come back unchanged;
// a CuDNNGRU's into GRU(reset_after=False) is a ValueError, as in Keras.
std::vector<Tensor> convert_cudnn_weights(const LayerImpl& layer, std::vector<Tensor> weights);

// Where Keras 3's .weights.h5 keeps a layer's variables, relative to the layer's group
// (layers/<snake_case(class)>[_k]): an RNN's live in its cell ("cell/vars/0..2", with an
// empty "vars" of its own), Bidirectional's in "forward_layer/cell/vars" and
// "backward_layer/cell/vars", TimeDistributed's in "layer/vars" (recursively); any other
// layer's in "vars". Groups come in the order of layer.variables(); path "" is the layer's
// own group.
struct VariableGroup {
  std::string path;  // "", "cell", "forward_layer/cell", "layer"...
  std::vector<Variable*> variables;
};
std::vector<VariableGroup> keras3_variable_groups(LayerImpl& layer);

}  // namespace keras::layers::rnn
