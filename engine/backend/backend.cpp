#include "engine/backend/backend.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/backend/cpu/cpu_backend.h"
#ifdef PARM_CUDA_ENGINE
#include "engine/backend/cuda_module_loader.h"
#endif

namespace parm::backend {

std::int64_t HostRouting::dropped_choices() const {
  return std::count(position.begin(), position.end(), std::int64_t{-1});
}

StreamCommunicator& StreamGroups::operator[](GroupKind kind) const {
  const auto& c = by_kind[static_cast<std::size_t>(kind)];
  if (!c) throw comm::CommError("this rank has no " + std::string(comm::to_string(kind)) + " group");
  return *c;
}

namespace {

std::runtime_error no_blocks(std::string_view backend) {
  return std::runtime_error(
      "backend " + std::string(backend) +
      ": no Transformer blocks yet, so whole models (the config's 'model' section) run on "
      "backend cpu only");
}

}  // namespace

BlockCompute<float>& Backend::blocks_f32() {
  throw no_blocks(name());
}

BlockCompute<double>& Backend::blocks_f64() {
  throw no_blocks(name());
}

std::unique_ptr<Backend> make_backend(parm::Backend kind) {
  BackendOptions options;
  options.kind = kind;
  return make_backend(options);
}

std::unique_ptr<Backend> make_backend(const BackendOptions& options) {
  const parm::Backend kind = options.kind;
  if (kind == parm::Backend::Cpu) return cpu::make_cpu_backend();
#ifdef PARM_CUDA_ENGINE
  if (kind == parm::Backend::Cuda || kind == parm::Backend::CudaMpi)
    return make_cuda_backend_from_module(options);
#endif
  // backend_availability refuses these before a rank starts; reaching here is a caller's bug.
  throw std::runtime_error("backend " + std::string(to_string(kind)) + ": no layer engine in this build");
}

}  // namespace parm::backend
