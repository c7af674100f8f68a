// Registers the onnx backend (linked whole through bimride_model_backends).
#include "models/model.h"
#include "models/onnx/onnx_model.h"

BIMRIDE_MODEL_BACKEND("onnx", bimride::models::onnx_backend::LoadOnnxModel);
