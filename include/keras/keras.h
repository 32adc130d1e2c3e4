#pragma once
// keras.cpp: Keras in C++. Include this one header for the whole public API.
#include "keras/errors.h"
#include "keras/initializers.h"
#include "keras/layer.h"
#include "keras/layers/core.h"
#include "keras/model.h"
#include "keras/saving.h"
#include "keras/shape.h"
#include "keras/tensor.h"
