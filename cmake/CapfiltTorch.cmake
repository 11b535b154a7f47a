# Finds LibTorch (Debian's libtorch-dev 1.13 or the LibTorch bundled in a PyTorch 2.x wheel, given
# through CMAKE_PREFIX_PATH) and records whether it was built with CUDA.
find_package(Torch REQUIRED)

if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
  set(CAPFILT_TORCH_HAS_CUDA ON)
else()
  set(CAPFILT_TORCH_HAS_CUDA OFF)
endif()
option(CAPFILT_WITH_CUDA "Use CUDA when the LibTorch found has it" ${CAPFILT_TORCH_HAS_CUDA})
message(STATUS "CapFilt: LibTorch ${Torch_VERSION}, CUDA ${CAPFILT_WITH_CUDA}")

separate_arguments(CAPFILT_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")

# One precompiled <torch/torch.h> for every Torch-heavy target (building it costs about a minute
# here, so it is built once and reused). Targets that reuse it must not add compile definitions of
# their own: paths and versions go into generated headers instead.
add_library(capfilt_torch_pch OBJECT "${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp")
target_link_libraries(capfilt_torch_pch PUBLIC ${TORCH_LIBRARIES})
target_compile_options(capfilt_torch_pch PUBLIC ${CAPFILT_TORCH_CXX_FLAGS})
target_precompile_headers(capfilt_torch_pch PRIVATE <torch/torch.h>)
if(CAPFILT_WITH_CUDA)
  target_compile_definitions(capfilt_torch_pch PUBLIC CAPFILT_WITH_CUDA=1)
endif()

# Links LibTorch into TARGET and gives it the shared Torch precompiled header.
function(capfilt_use_torch target)
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  target_compile_options(${target} PUBLIC ${CAPFILT_TORCH_CXX_FLAGS})
  if(CAPFILT_WITH_CUDA)
    target_compile_definitions(${target} PUBLIC CAPFILT_WITH_CUDA=1)
  endif()
  target_precompile_headers(${target} REUSE_FROM capfilt_torch_pch)
endfunction()

# Same for a library that hides LibTorch behind plain C++ headers (core/): Torch's include paths,
# flags and the PCH stay private; only the link dependency reaches the library's users.
function(capfilt_use_torch_privately target)
  target_link_libraries(${target} PRIVATE ${TORCH_LIBRARIES})
  target_compile_options(${target} PRIVATE ${CAPFILT_TORCH_CXX_FLAGS})
  if(CAPFILT_WITH_CUDA)
    target_compile_definitions(${target} PRIVATE CAPFILT_WITH_CUDA=1)
  endif()
  target_precompile_headers(${target} REUSE_FROM capfilt_torch_pch)
endfunction()
