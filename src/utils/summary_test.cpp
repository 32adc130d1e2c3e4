// model.summary() against Keras's own text. The expected texts are KERAS_SPEC §7.1/§7.2
// verbatim (Keras's output) or, for the cases the spec doesn't print, the output of Keras's
// own code: summary_utils.py's table drawn by rich 13.3 (Keras 3) and tf-keras's print_row
// (Keras 2), both run by tests/fixtures/summary/oracle.py.
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

#include "engine/functional.h"
#include "test_helpers.h"

namespace keras {
namespace {

using layers::Conv2D;
using layers::Dense;
using layers::Dropout;
using layers::Flatten;
using layers::MaxPooling2D;

// KERAS_SPEC §7.2 verbatim: the functional Input-Conv2D-MaxPooling2D-Flatten-Dense model.
const char* const kKeras3FunctionalMnist =
    "Model: \"functional\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
    "│ input_layer (InputLayer)        │ (None, 28, 28, 1)      │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ flatten (Flatten)               │ (None, 5408)           │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ dense (Dense)                   │ (None, 10)             │        54,090 │\n"
    "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
    " Total params: 54,410 (212.54 KB)\n"
    " Trainable params: 54,410 (212.54 KB)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// KERAS_SPEC §7.2 verbatim: non-sequential functional model, 4 columns (21/19/12/19) at 76.
const char* const kKeras3Concatenate =
    "Model: \"functional_1\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩\n"
    "│ a (InputLayer)      │ (None, 8)         │          0 │ -                 │\n"
    "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
    "│ b (InputLayer)      │ (None, 8)         │          0 │ -                 │\n"
    "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
    "│ concatenate         │ (None, 16)        │          0 │ a[0][0], b[0][0]  │\n"
    "│ (Concatenate)       │                   │            │                   │\n"
    "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
    "│ dense_1 (Dense)     │ (None, 4)         │         68 │ concatenate[0][0] │\n"
    "└─────────────────────┴───────────────────┴────────────┴───────────────────┘\n"
    " Total params: 68 (272.00 B)\n"
    " Trainable params: 68 (272.00 B)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// KERAS_SPEC §7.2 verbatim: frozen VGG16 base nested in a Sequential.
const char* const kKeras3NestedVgg16 =
    "Model: \"sequential_2\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
    "│ vgg16 (Functional)              │ (None, 7, 7, 512)      │    14,714,688 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ flatten (Flatten)               │ (None, 25088)          │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ dense_3 (Dense)                 │ (None, 256)            │     6,422,784 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ dense_4 (Dense)                 │ (None, 10)             │         2,570 │\n"
    "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
    " Total params: 21,140,042 (80.64 MB)\n"
    " Trainable params: 6,425,354 (24.51 MB)\n"
    " Non-trainable params: 14,714,688 (56.13 MB)\n";

// rich oracle: line_length=88 on a 100-column console (dash widths 38/29/17).
const char* const kKeras3Mnist88 =
    "Model: \"sequential\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩\n"
    "│ conv2d (Conv2D)                      │ (None, 26, 26, 32)          │             320 │\n"
    "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
    "│ max_pooling2d (MaxPooling2D)         │ (None, 13, 13, 32)          │               0 │\n"
    "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
    "│ conv2d_1 (Conv2D)                    │ (None, 11, 11, 64)          │          18,496 │\n"
    "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
    "│ max_pooling2d_1 (MaxPooling2D)       │ (None, 5, 5, 64)            │               0 │\n"
    "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
    "│ flatten (Flatten)                    │ (None, 1600)                │               0 │\n"
    "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
    "│ dropout (Dropout)                    │ (None, 1600)                │               0 │\n"
    "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
    "│ dense (Dense)                        │ (None, 10)                  │          16,010 │\n"
    "└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘\n"
    " Total params: 34,826 (136.04 KB)\n"
    " Trainable params: 34,826 (136.04 KB)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// rich oracle: line_length=88 on an 80-column console; rich crops each line at 80.
const char* const kKeras3Mnist88Cropped =
    "Model: \"sequential\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━\n"
    "┃ Layer (type)                         ┃ Output Shape                ┃         P\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━\n"
    "│ conv2d (Conv2D)                      │ (None, 26, 26, 32)          │          \n"
    "├──────────────────────────────────────┼─────────────────────────────┼──────────\n"
    "│ max_pooling2d (MaxPooling2D)         │ (None, 13, 13, 32)          │          \n"
    "├──────────────────────────────────────┼─────────────────────────────┼──────────\n"
    "│ conv2d_1 (Conv2D)                    │ (None, 11, 11, 64)          │          \n"
    "├──────────────────────────────────────┼─────────────────────────────┼──────────\n"
    "│ max_pooling2d_1 (MaxPooling2D)       │ (None, 5, 5, 64)            │          \n"
    "├──────────────────────────────────────┼─────────────────────────────┼──────────\n"
    "│ flatten (Flatten)                    │ (None, 1600)                │          \n"
    "├──────────────────────────────────────┼─────────────────────────────┼──────────\n"
    "│ dropout (Dropout)                    │ (None, 1600)                │          \n"
    "├──────────────────────────────────────┼─────────────────────────────┼──────────\n"
    "│ dense (Dense)                        │ (None, 10)                  │          \n"
    "└──────────────────────────────────────┴─────────────────────────────┴──────────\n"
    " Total params: 34,826 (136.04 KB)\n"
    " Trainable params: 34,826 (136.04 KB)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// rich oracle: a word longer than its cell is cut with an ellipsis, the rest wraps.
const char* const kKeras3LongName =
    "Model: \"wrapping\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
    "│ a_very_long_dense_layer_name_t… │ (None, 4)              │            68 │\n"
    "│ (Dense)                         │                        │               │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ short (Dense)                   │ (None, 2)              │            10 │\n"
    "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
    " Total params: 78 (312.00 B)\n"
    " Trainable params: 78 (312.00 B)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// rich oracle: a Sequential that was never built.
const char* const kKeras3Unbuilt =
    "Model: \"sequential\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
    "│ dense (Dense)                   │ ?                      │   0 (unbuilt) │\n"
    "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
    " Total params: 0 (0.00 B)\n"
    " Trainable params: 0 (0.00 B)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// rich oracle: a layer called twice is not sequential-like; both calls are listed.
const char* const kKeras3SharedLayer =
    "Model: \"shared\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩\n"
    "│ x (InputLayer)      │ (None, 8)         │          0 │ -                 │\n"
    "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
    "│ shared_dense        │ (None, 8)         │         72 │ x[0][0],          │\n"
    "│ (Dense)             │                   │            │ shared_dense[0][… │\n"
    "└─────────────────────┴───────────────────┴────────────┴───────────────────┘\n"
    " Total params: 72 (288.00 B)\n"
    " Trainable params: 72 (288.00 B)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// rich oracle: COLUMNS=40 (width 36): the title folds, headers wrap bottom-aligned.
const char* const kKeras3Narrow =
    "Model: \n"
    "\"a_model_with_a_really_long_name_for_wra\n"
    "pping\"\n"
    "┏━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━┓\n"
    "┃               ┃ Output   ┃ Param ┃\n"
    "┃ Layer (type)  ┃ Shape    ┃     # ┃\n"
    "┡━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━┩\n"
    "│ dense (Dense) │ (None,   │     8 │\n"
    "│               │ 2)       │       │\n"
    "└───────────────┴──────────┴───────┘\n"
    " Total params: 8 (32.00 B)\n"
    " Trainable params: 8 (32.00 B)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// rich oracle: a chain with two outputs is still sequential-like by Keras's rule.
const char* const kKeras3ChainTwoOutputs =
    "Model: \"two_outputs\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
    "│ x (InputLayer)                  │ (None, 4)              │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ h (Dense)                       │ (None, 3)              │            15 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ o (Dense)                       │ (None, 2)              │             8 │\n"
    "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
    " Total params: 23 (92.00 B)\n"
    " Trainable params: 23 (92.00 B)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// rich oracle: a layer with two outputs lists both shapes.
const char* const kKeras3MultiOutputLayer =
    "Model: \"split_concat\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩\n"
    "│ x (InputLayer)      │ (None, 4)         │          0 │ -                 │\n"
    "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
    "│ split (Split)       │ [(None, 2),       │          0 │ x[0][0]           │\n"
    "│                     │ (None, 2)]        │            │                   │\n"
    "├─────────────────────┼───────────────────┼────────────┼───────────────────┤\n"
    "│ concat              │ (None, 4)         │          0 │ split[0][0],      │\n"
    "│ (Concatenate)       │                   │            │ split[0][1]       │\n"
    "└─────────────────────┴───────────────────┴────────────┴───────────────────┘\n"
    " Total params: 0 (0.00 B)\n"
    " Trainable params: 0 (0.00 B)\n"
    " Non-trainable params: 0 (0.00 B)\n";

// KERAS_SPEC §7.1 verbatim: tf.keras 2.13-2.15, MNIST convnet.
const char* const kKeras2Mnist =
    "Model: \"sequential\"\n"
    "_________________________________________________________________\n"
    " Layer (type)                Output Shape              Param #   \n"
    "=================================================================\n"
    " conv2d (Conv2D)             (None, 26, 26, 32)        320       \n"
    "                                                                 \n"
    " max_pooling2d (MaxPooling2  (None, 13, 13, 32)        0         \n"
    " D)                                                              \n"
    "                                                                 \n"
    " conv2d_1 (Conv2D)           (None, 11, 11, 64)        18496     \n"
    "                                                                 \n"
    " max_pooling2d_1 (MaxPoolin  (None, 5, 5, 64)          0         \n"
    " g2D)                                                            \n"
    "                                                                 \n"
    " flatten (Flatten)           (None, 1600)              0         \n"
    "                                                                 \n"
    " dropout (Dropout)           (None, 1600)              0         \n"
    "                                                                 \n"
    " dense (Dense)               (None, 10)                16010     \n"
    "                                                                 \n"
    "=================================================================\n"
    "Total params: 34826 (136.04 KB)\n"
    "Trainable params: 34826 (136.04 KB)\n"
    "Non-trainable params: 0 (0.00 Byte)\n"
    "_________________________________________________________________\n";

// KERAS_SPEC §7.1 verbatim: functional version (InputLayer shape as a list).
const char* const kKeras2FunctionalMnist =
    "Model: \"model\"\n"
    "_________________________________________________________________\n"
    " Layer (type)                Output Shape              Param #   \n"
    "=================================================================\n"
    " input_1 (InputLayer)        [(None, 28, 28, 1)]       0         \n"
    "                                                                 \n"
    " conv2d (Conv2D)             (None, 26, 26, 32)        320       \n"
    "                                                                 \n"
    " max_pooling2d (MaxPooling2  (None, 13, 13, 32)        0         \n"
    " D)                                                              \n"
    "                                                                 \n"
    " conv2d_1 (Conv2D)           (None, 11, 11, 64)        18496     \n"
    "                                                                 \n"
    " max_pooling2d_1 (MaxPoolin  (None, 5, 5, 64)          0         \n"
    " g2D)                                                            \n"
    "                                                                 \n"
    " flatten (Flatten)           (None, 1600)              0         \n"
    "                                                                 \n"
    " dropout (Dropout)           (None, 1600)              0         \n"
    "                                                                 \n"
    " dense (Dense)               (None, 10)                16010     \n"
    "                                                                 \n"
    "=================================================================\n"
    "Total params: 34826 (136.04 KB)\n"
    "Trainable params: 34826 (136.04 KB)\n"
    "Non-trainable params: 0 (0.00 Byte)\n"
    "_________________________________________________________________\n";

// KERAS_SPEC §7.1 verbatim: non-sequential functional, Connected to as a Python list.
const char* const kKeras2Concatenate =
    "Model: \"model\"\n"
    "__________________________________________________________________________________________________\n"
    " Layer (type)                Output Shape                 Param #   Connected to                  \n"
    "==================================================================================================\n"
    " input_1 (InputLayer)        [(None, 8)]                  0         []                            \n"
    "                                                                                                  \n"
    " input_2 (InputLayer)        [(None, 8)]                  0         []                            \n"
    "                                                                                                  \n"
    " concatenate (Concatenate)   (None, 16)                   0         ['input_1[0][0]',             \n"
    "                                                                     'input_2[0][0]']             \n"
    "                                                                                                  \n"
    " dense (Dense)               (None, 4)                    68        ['concatenate[0][0]']         \n"
    "                                                                                                  \n"
    "==================================================================================================\n"
    "Total params: 68 (272.00 Byte)\n"
    "Trainable params: 68 (272.00 Byte)\n"
    "Non-trainable params: 0 (0.00 Byte)\n"
    "__________________________________________________________________________________________________\n";

// KERAS_SPEC §7.1 verbatim: frozen VGG16 base nested in a Sequential.
const char* const kKeras2NestedVgg16 =
    "Model: \"sequential\"\n"
    "_________________________________________________________________\n"
    " Layer (type)                Output Shape              Param #   \n"
    "=================================================================\n"
    " vgg16 (Functional)          (None, 7, 7, 512)         14714688  \n"
    "                                                                 \n"
    " flatten (Flatten)           (None, 25088)             0         \n"
    "                                                                 \n"
    " dense (Dense)               (None, 256)               6422784   \n"
    "                                                                 \n"
    " dense_1 (Dense)             (None, 10)                2570      \n"
    "                                                                 \n"
    "=================================================================\n"
    "Total params: 21140042 (80.64 MB)\n"
    "Trainable params: 6425354 (24.51 MB)\n"
    "Non-trainable params: 14714688 (56.13 MB)\n"
    "_________________________________________________________________\n";

// tf-keras print_row oracle: two output shapes, breaking after ")," and "',".
const char* const kKeras2MultiOutputLayer =
    "Model: \"split_concat\"\n"
    "__________________________________________________________________________________________________\n"
    " Layer (type)                Output Shape                 Param #   Connected to                  \n"
    "==================================================================================================\n"
    " x (InputLayer)              [(None, 4)]                  0         []                            \n"
    "                                                                                                  \n"
    " split (Split)               [(None, 2),                  0         ['x[0][0]']                   \n"
    "                              (None, 2)]                                                          \n"
    "                                                                                                  \n"
    " concat (Concatenate)        (None, 4)                    0         ['split[0][0]',               \n"
    "                                                                     'split[0][1]']               \n"
    "                                                                                                  \n"
    "==================================================================================================\n"
    "Total params: 0 (0.00 Byte)\n"
    "Trainable params: 0 (0.00 Byte)\n"
    "Non-trainable params: 0 (0.00 Byte)\n"
    "__________________________________________________________________________________________________\n";

// tf-keras print_row oracle: a long name continues over three lines.
const char* const kKeras2LongName =
    "Model: \"wrapping\"\n"
    "_________________________________________________________________\n"
    " Layer (type)                Output Shape              Param #   \n"
    "=================================================================\n"
    " a_very_long_dense_layer_na  (None, 4)                 68        \n"
    " me_that_needs_wrapping (De                                      \n"
    " nse)                                                            \n"
    "                                                                 \n"
    " short (Dense)               (None, 2)                 10        \n"
    "                                                                 \n"
    "=================================================================\n"
    "Total params: 78 (312.00 Byte)\n"
    "Trainable params: 78 (312.00 Byte)\n"
    "Non-trainable params: 0 (0.00 Byte)\n"
    "_________________________________________________________________\n";

// Sets $COLUMNS (the terminal width both Python's shutil and rich read) for one test.
class ScopedColumns {
 public:
  explicit ScopedColumns(const char* value) {
    if (const char* old = std::getenv("COLUMNS")) old_ = old;
    if (value)
      setenv("COLUMNS", value, 1);
    else
      unsetenv("COLUMNS");
  }
  ~ScopedColumns() {
    if (old_)
      setenv("COLUMNS", old_->c_str(), 1);
    else
      unsetenv("COLUMNS");
  }
  ScopedColumns(const ScopedColumns&) = delete;
  ScopedColumns& operator=(const ScopedColumns&) = delete;

 private:
  std::optional<std::string> old_;
};

SummaryOptions keras2() { return {.style = "keras2"}; }

// The keras.io MNIST convnet (KERAS_SPEC §10), first model of the session.
Sequential mnist_convnet() {
  clear_session();
  return Sequential({Input({28, 28, 1}), Conv2D(32, 3, "relu"), MaxPooling2D(2), Conv2D(64, 3, "relu"), MaxPooling2D(2),
                     Flatten(), Dropout(0.5), Dense(10, "softmax")});
}

// keras.applications.VGG16(include_top=False, input_shape=(224, 224, 3)): 14,714,688 params.
Model vgg16_base() {
  auto x = Input({224, 224, 3}, "input_1");
  KerasTensor y = x;
  const Dim filters[] = {64, 128, 256, 512, 512};
  const int convs[] = {2, 2, 3, 3, 3};
  for (int b = 0; b < 5; ++b) {
    std::string block = "block" + std::to_string(b + 1);
    for (int c = 0; c < convs[b]; ++c)
      y = Conv2D({.filters = filters[b],
                  .kernel_size = 3,
                  .padding = "same",
                  .activation = "relu",
                  .kernel_initializer = "zeros",
                  .name = block + "_conv" + std::to_string(c + 1)})(y);
    y = MaxPooling2D(layers::Pooling2DOptions{.pool_size = 2, .strides = layers::IntPair(2), .name = block + "_pool"})(
        y);
  }
  Model vgg(x, y, "vgg16");
  vgg.functional().set_trainable(false);
  return vgg;
}

// A stand-in layer with two outputs (as LSTM(return_state=True) has): halves of the features.
class SplitImpl : public LayerImpl {
 public:
  SplitImpl() : LayerImpl("split", "split") {}
  std::string class_name() const override { return "Split"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    Shape half = in.at(0);
    half[-1] /= 2;
    return {half, half};
  }
  std::vector<Tensor> call(const std::vector<Tensor>&, const CallContext&) const override { return {}; }
};

Model split_concat() {
  auto x = Input({4}, "x");
  auto parts = outputs_of(Layer(std::make_shared<SplitImpl>())(x));
  return Model(x, layers::Concatenate({.name = "concat"})(parts), "split_concat");
}

// ---------------------------------------------------------------- Keras 3

TEST(SummaryKeras3, MnistConvnetAt80Columns) {
  ScopedColumns columns("80");
  EXPECT_EQ(mnist_convnet().summary_string(), testing::kKeras3MnistSummary76);
}

TEST(SummaryKeras3, OffATerminalIs76Wide) {
  ScopedColumns columns(nullptr);
  if (isatty(STDIN_FILENO) || isatty(STDOUT_FILENO) || isatty(STDERR_FILENO))
    GTEST_SKIP() << "a terminal is attached; its width decides";
  EXPECT_EQ(mnist_convnet().summary_string(), testing::kKeras3MnistSummary76);
}

TEST(SummaryKeras3, LineLength88) {
  ScopedColumns columns("100");
  EXPECT_EQ(mnist_convnet().summary_string({.line_length = 88}), kKeras3Mnist88);
}

TEST(SummaryKeras3, WideTerminalGives88ByDefault) {
  ScopedColumns columns("92");
  EXPECT_EQ(mnist_convnet().summary_string(), kKeras3Mnist88);
}

TEST(SummaryKeras3, LinesWiderThanTheConsoleAreCropped) {
  ScopedColumns columns("80");
  EXPECT_EQ(mnist_convnet().summary_string({.line_length = 88}), kKeras3Mnist88Cropped);
}

TEST(SummaryKeras3, FunctionalShowsInputLayer) {
  ScopedColumns columns("80");
  clear_session();
  auto x = Input({28, 28, 1});
  auto y = Conv2D(32, 3, "relu")(x);
  y = MaxPooling2D(2)(y);
  y = Flatten()(y);
  y = Dense(10, "softmax")(y);
  EXPECT_EQ(Model(x, y).summary_string(), kKeras3FunctionalMnist);
}

TEST(SummaryKeras3, ConcatenateAddsConnectedToColumn) {
  ScopedColumns columns("80");
  clear_session();
  auto a = Input({8}, "a");
  auto b = Input({8}, "b");
  auto c = layers::Concatenate()({a, b});
  auto d = Dense({.units = 4, .name = "dense_1"})(c);
  EXPECT_EQ(Model({a, b}, {d}, "functional_1").summary_string(), kKeras3Concatenate);
}

TEST(SummaryKeras3, NestedFrozenVgg16) {
  ScopedColumns columns("80");
  clear_session();
  Sequential model(
      {vgg16_base(), Flatten(), Dense({.units = 256, .name = "dense_3"}), Dense({.units = 10, .name = "dense_4"})},
      "sequential_2");
  EXPECT_EQ(model.summary_string(), kKeras3NestedVgg16);
}

TEST(SummaryKeras3, NestedSequentialShowsItsClass) {
  ScopedColumns columns("80");
  clear_session();
  Sequential inner({Input({4}), Dense(3)}, "inner");
  auto x = Input({4});
  std::string text = Model(x, inner(x)).summary_string();
  EXPECT_NE(text.find("│ inner (Sequential)              │ (None, 3)              │            15 │"),
            std::string::npos)
      << text;
}

TEST(SummaryKeras3, LongNameIsCutWithEllipsis) {
  ScopedColumns columns("80");
  Sequential model({Input({16}), Dense({.units = 4, .name = "a_very_long_dense_layer_name_that_needs_wrapping"}),
                    Dense({.units = 2, .name = "short"})},
                   "wrapping");
  EXPECT_EQ(model.summary_string(), kKeras3LongName);
}

TEST(SummaryKeras3, UnbuiltSequential) {
  ScopedColumns columns("80");
  clear_session();
  Sequential model({Dense(10)});
  EXPECT_EQ(model.summary_string(), kKeras3Unbuilt);
}

TEST(SummaryKeras3, SharedLayer) {
  ScopedColumns columns("80");
  auto x = Input({8}, "x");
  auto shared = Dense({.units = 8, .name = "shared_dense"});
  EXPECT_EQ(Model(x, shared(shared(x)), "shared").summary_string(), kKeras3SharedLayer);
}

TEST(SummaryKeras3, NarrowConsoleWrapsTitleAndHeaders) {
  ScopedColumns columns("40");
  clear_session();
  Sequential model({Input({3}), Dense(2)}, "a_model_with_a_really_long_name_for_wrapping");
  EXPECT_EQ(model.summary_string(), kKeras3Narrow);
}

TEST(SummaryKeras3, ChainWithTwoOutputsIsSequentialLike) {
  ScopedColumns columns("80");
  auto x = Input({4}, "x");
  auto h = Dense({.units = 3, .name = "h"})(x);
  auto o = Dense({.units = 2, .name = "o"})(h);
  EXPECT_EQ(Model({x}, {h, o}, "two_outputs").summary_string(), kKeras3ChainTwoOutputs);
}

TEST(SummaryKeras3, LayerWithTwoOutputs) {
  ScopedColumns columns("80");
  EXPECT_EQ(split_concat().summary_string(), kKeras3MultiOutputLayer);
}

TEST(SummaryKeras3, TooNarrowIsAnError) {
  ScopedColumns columns("80");
  EXPECT_THROW(mnist_convnet().summary_string({.line_length = 8}), ValueError);
}

TEST(Summary, UnknownStyleIsAnError) { EXPECT_THROW(mnist_convnet().summary_string({.style = "keras1"}), ValueError); }

TEST(Summary, WritesToTheGivenStream) {
  ScopedColumns columns("80");
  std::ostringstream os;
  mnist_convnet().summary(os);
  EXPECT_EQ(os.str(), testing::kKeras3MnistSummary76);
}

// ---------------------------------------------------------------- Keras 2

TEST(SummaryKeras2, MnistConvnet) { EXPECT_EQ(mnist_convnet().summary_string(keras2()), kKeras2Mnist); }

TEST(SummaryKeras2, FunctionalShowsInputShapeAsList) {
  clear_session();
  auto x = Input({28, 28, 1}, "input_1");
  auto y = Conv2D(32, 3, "relu")(x);
  y = MaxPooling2D(2)(y);
  y = Conv2D(64, 3, "relu")(y);
  y = MaxPooling2D(2)(y);
  y = Flatten()(y);
  y = Dropout(0.5)(y);
  y = Dense(10, "softmax")(y);
  EXPECT_EQ(Model(x, y, "model").summary_string(keras2()), kKeras2FunctionalMnist);
}

TEST(SummaryKeras2, ConcatenateAddsConnectedToColumn) {
  clear_session();
  auto a = Input({8}, "input_1");
  auto b = Input({8}, "input_2");
  auto d = Dense(4)(layers::Concatenate()({a, b}));
  EXPECT_EQ(Model({a, b}, {d}, "model").summary_string(keras2()), kKeras2Concatenate);
}

TEST(SummaryKeras2, NestedFrozenVgg16) {
  clear_session();
  Sequential model({vgg16_base(), Flatten(), Dense(256), Dense(10)});
  EXPECT_EQ(model.summary_string(keras2()), kKeras2NestedVgg16);
}

TEST(SummaryKeras2, LayerWithTwoOutputs) {
  EXPECT_EQ(split_concat().summary_string(keras2()), kKeras2MultiOutputLayer);
}

TEST(SummaryKeras2, LongNameContinuesOnNextLines) {
  Sequential model({Input({16}), Dense({.units = 4, .name = "a_very_long_dense_layer_name_that_needs_wrapping"}),
                    Dense({.units = 2, .name = "short"})},
                   "wrapping");
  EXPECT_EQ(model.summary_string(keras2()), kKeras2LongName);
}

TEST(SummaryKeras2, UnbuiltSequentialIsAnError) {
  clear_session();
  EXPECT_THROW(Sequential({Dense(10)}).summary_string(keras2()), ValueError);
}

}  // namespace
}  // namespace keras
