// Compiled only to produce the shared precompiled <torch/torch.h>; see CapfiltTorch.cmake.
