// Registers the LibTorch backend (linked whole through bimride_model_backends).
#include "models/model.h"
#include "models/torch/tabular_net.h"
#include "models/torch/torchscript_model.h"

BIMRIDE_MODEL_BACKEND("torchscript", bimride::models::torch_backend::LoadTorchScriptModel);
BIMRIDE_MODEL_BACKEND("torch_eager", bimride::models::torch_backend::LoadEagerTabularNetModel);
