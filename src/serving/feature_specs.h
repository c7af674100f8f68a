// The feature specs the `bimride` server knows: one registration call per spec, each building
// a version's FeatureAdapter from the context files in its version folder with the task's own
// feature code (the same functions training used). Tasks add their specs here — keep it a
// plain list of calls.
// Thread safety: call once at start-up, before the server loads models.
#pragma once

namespace bimride::serving {

void RegisterBuiltinFeatureSpecs();

}  // namespace bimride::serving
