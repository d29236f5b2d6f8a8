#include "engine/backend/cuda_module_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace parm::backend {
namespace {

using MakeCudaBackend = Backend* (*)(const BackendOptions*);

std::string executable_dir() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return {};
  const std::string exe(path, static_cast<std::size_t>(n));
  return exe.substr(0, exe.find_last_of('/'));
}

MakeCudaBackend load_factory() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("PARM_CUDA_MODULE"); env && *env) candidates.emplace_back(env);
  if (const std::string dir = executable_dir(); !dir.empty()) candidates.push_back(dir + "/libparm_cuda.so");
#ifdef PARM_CUDA_MODULE_PATH
  candidates.emplace_back(PARM_CUDA_MODULE_PATH);
#endif
  std::string tried;
  for (const std::string& path : candidates) {
    if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {  // never closed: backends live in it
      if (auto* make = reinterpret_cast<MakeCudaBackend>(dlsym(handle, "parm_make_cuda_backend")))
        return make;
      tried += (tried.empty() ? "" : "; ") + path + ": no parm_make_cuda_backend";
      continue;
    }
    const char* why = dlerror();
    tried += (tried.empty() ? "" : "; ") + (why ? std::string(why) : path);
  }
  throw std::runtime_error("the cuda engine module (libparm_cuda.so) cannot be loaded (" + tried +
                           "); build target parm_cuda or set PARM_CUDA_MODULE");
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend_from_module(const BackendOptions& options) {
  static std::once_flag once;
  static MakeCudaBackend make = nullptr;
  static std::string error;
  std::call_once(once, [] {
    try {
      make = load_factory();
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!make) throw std::runtime_error("backend " + std::string(to_string(options.kind)) + ": " + error);
  return std::unique_ptr<Backend>(make(&options));
}

}  // namespace parm::backend
