// LayerExecutor's host conveniences: copies out of the backend's buffers (made on first use after a pass) and
// the given gate logits.
#include <stdexcept>
#include <string>

#include "engine/run/executor.h"

namespace parm {

template <typename T>
const std::vector<T>& LayerExecutor<T>::output() const {
  if (result_stale_[0]) {
    host_result_[0].resize(result_[0].size());
    backend_.allocator().copy_to_host(host_result_[0].data(), result_[0].data(),
                                      result_[0].size() * sizeof(T));
    result_stale_[0] = false;
  }
  return host_result_[0];
}

template <typename T>
const std::vector<T>& LayerExecutor<T>::input_grad() const {
  if (result_stale_[1]) {
    host_result_[1].resize(result_[1].size());
    backend_.allocator().copy_to_host(host_result_[1].data(), result_[1].data(),
                                      result_[1].size() * sizeof(T));
    result_stale_[1] = false;
  }
  return host_result_[1];
}

template <typename T>
const LocalGradients<T>& LayerExecutor<T>::gradients() const {
  if (grads_stale_) {
    download_gradients(backend_.allocator(), device_grads_, host_grads_);
    grads_stale_ = false;
  }
  return host_grads_;
}

template <typename T>
const backend::HostRouting& LayerExecutor<T>::routing() const {
  if (routing_stale_) {
    host_routing_ = compute_.host_routing(*routing_state_);
    routing_stale_ = false;
  }
  return host_routing_;
}

template <typename T>
std::vector<T> LayerExecutor<T>::gate_probabilities() const {
  std::vector<T> host(probs_.size());
  backend_.allocator().copy_to_host(host.data(), probs_.data(), host.size() * sizeof(T));
  return host;
}

template <typename T>
std::vector<T> LayerExecutor<T>::combine_weights() const {
  std::vector<T> host(combine_weights_.size());
  backend_.allocator().copy_to_host(host.data(), combine_weights_.data(), host.size() * sizeof(T));
  return host;
}

template <typename T>
void LayerExecutor<T>::set_gate_logits(const std::vector<T>& group_logits) {
  const std::int64_t e = config_.layer.num_experts;
  if (static_cast<std::int64_t>(group_logits.size()) != config_.layer.tokens() * e)
    throw std::invalid_argument("gate logits: expected S*E = " + std::to_string(config_.layer.tokens() * e) +
                                " values, got " + std::to_string(group_logits.size()));
  backend::Allocator& a = backend_.allocator();
  given_logits_ = backend::Buffer<T>(a, group_logits.size());
  a.copy_from_host(given_logits_.data(), group_logits.data(), group_logits.size() * sizeof(T));
  std::vector<T> identity(static_cast<std::size_t>(e * e), T(0));
  for (std::int64_t i = 0; i < e; ++i) identity[static_cast<std::size_t>(i * e + i)] = T(1);
  logits_identity_ = backend::Buffer<T>(a, identity.size());
  a.copy_from_host(logits_identity_.data(), identity.data(), identity.size() * sizeof(T));
}

// executor.cpp instantiates the class; these members are defined here.
#define PARM_EXECUTOR_HOST(T)                                             \
  template const std::vector<T>& LayerExecutor<T>::output() const;        \
  template const std::vector<T>& LayerExecutor<T>::input_grad() const;    \
  template const LocalGradients<T>& LayerExecutor<T>::gradients() const;  \
  template const backend::HostRouting& LayerExecutor<T>::routing() const; \
  template std::vector<T> LayerExecutor<T>::gate_probabilities() const;   \
  template std::vector<T> LayerExecutor<T>::combine_weights() const;      \
  template void LayerExecutor<T>::set_gate_logits(const std::vector<T>&);
PARM_EXECUTOR_HOST(float)
PARM_EXECUTOR_HOST(double)
PARM_EXECUTOR_HOST(Bf16)
PARM_EXECUTOR_HOST(F16)
#undef PARM_EXECUTOR_HOST

}  // namespace parm
