#include "engine/run/local_weights.h"

#include "engine/backend/element_type.h"
#include "engine/run/tensor_init.h"

namespace parm {

template <typename T>
LocalWeights<T> make_local_weights(const Config& config, const RankLayout& layout) {
  const LayerConfig& l = config.layer;
  const std::uint64_t seed = config.run.seed;
  LocalWeights<T> w;
  w.hidden = l.hidden;
  w.shard = l.ffn_hidden / layout.esp_size;
  w.h0 = layout.esp_index * w.shard;
  w.first_expert = layout.first_expert;
  w.local_experts = layout.local_experts;
  w.adds_b2 = layout.esp_index == 0;
  const std::int64_t m = l.hidden, hs = w.shard, el = w.local_experts, e = l.num_experts, h = l.ffn_hidden;
  const std::int64_t h1 = w.h0 + hs;
  const bool swiglu = l.activation == Activation::Swiglu;

  w.wg.resize(static_cast<std::size_t>(m * e));
  fill(w.wg.data(), m * e, seed, TensorId::GateWeight, 0, tensor_scale(TensorId::GateWeight, m, h));
  w.w1.resize(static_cast<std::size_t>(el * m * hs));
  w.w2.resize(static_cast<std::size_t>(el * hs * m));
  if (swiglu) w.w3.resize(w.w1.size());
  if (l.bias) {
    w.b1.resize(static_cast<std::size_t>(el * hs));
    if (swiglu) w.b3.resize(w.b1.size());
    if (w.adds_b2) w.b2.resize(static_cast<std::size_t>(el * m));
  }
  for (std::int64_t le = 0; le < el; ++le) {
    const std::int64_t ge = w.first_expert + le;
    fill_in_projection_shard(w.w1.data() + le * m * hs, seed, TensorId::W1, ge, m, h, w.h0, h1);
    fill_w2_shard(w.w2.data() + le * hs * m, seed, ge, m, h, w.h0, h1);
    if (swiglu) fill_in_projection_shard(w.w3.data() + le * m * hs, seed, TensorId::W3, ge, m, h, w.h0, h1);
    if (l.bias) {  // B1/B3 (E,H): the shard's columns are contiguous inside expert ge's row
      fill(w.b1.data() + le * hs, hs, seed, TensorId::B1, static_cast<std::uint64_t>(ge * h + w.h0),
           tensor_scale(TensorId::B1, m, h));
      if (swiglu)
        fill(w.b3.data() + le * hs, hs, seed, TensorId::B3, static_cast<std::uint64_t>(ge * h + w.h0),
             tensor_scale(TensorId::B3, m, h));
      if (w.adds_b2)
        fill(w.b2.data() + le * m, m, seed, TensorId::B2, static_cast<std::uint64_t>(ge * m),
             tensor_scale(TensorId::B2, m, h));
    }
  }
  return w;
}

template <typename T>
LocalGradients<T> zero_gradients_like(const LocalWeights<T>& w) {
  LocalGradients<T> g;
  g.dwg.assign(w.wg.size(), T(0));
  g.dw1.assign(w.w1.size(), T(0));
  g.dw3.assign(w.w3.size(), T(0));
  g.db1.assign(w.b1.size(), T(0));
  g.db3.assign(w.b3.size(), T(0));
  g.dw2.assign(w.w2.size(), T(0));
  g.db2.assign(w.b2.size(), T(0));
  return g;
}

namespace {

template <typename T>
backend::Buffer<T> upload(backend::Allocator& allocator, const std::vector<T>& host) {
  backend::Buffer<T> b(allocator, host.size());
  allocator.copy_from_host(b.data(), host.data(), host.size() * sizeof(T));
  return b;
}

template <typename T>
void download(backend::Allocator& allocator, const backend::Buffer<T>& device, std::vector<T>& host) {
  host.resize(device.size());
  allocator.copy_to_host(host.data(), device.data(), device.size() * sizeof(T));
}

}  // namespace

template <typename T>
DeviceTensors<T> upload_weights(backend::Allocator& a, const LocalWeights<T>& w) {
  return {upload(a, w.wg), upload(a, w.w1), upload(a, w.w3), upload(a, w.b1),
          upload(a, w.b3), upload(a, w.w2), upload(a, w.b2)};
}

template <typename T>
DeviceTensors<T> upload_gradients(backend::Allocator& a, const LocalGradients<T>& g) {
  return {upload(a, g.dwg), upload(a, g.dw1), upload(a, g.dw3), upload(a, g.db1),
          upload(a, g.db3), upload(a, g.dw2), upload(a, g.db2)};
}

template <typename T>
void download_gradients(backend::Allocator& a, const DeviceTensors<T>& d, LocalGradients<T>& g) {
  download(a, d.wg, g.dwg);
  download(a, d.w1, g.dw1);
  download(a, d.w3, g.dw3);
  download(a, d.b1, g.db1);
  download(a, d.b3, g.db3);
  download(a, d.w2, g.dw2);
  download(a, d.b2, g.db2);
}

#define PARM_DEVICE_TENSORS(T)                                                                  \
  template DeviceTensors<T> upload_weights<T>(backend::Allocator&, const LocalWeights<T>&);     \
  template DeviceTensors<T> upload_gradients<T>(backend::Allocator&, const LocalGradients<T>&); \
  template void download_gradients<T>(backend::Allocator&, const DeviceTensors<T>&, LocalGradients<T>&);
#define PARM_LOCAL_WEIGHTS(T)                                                       \
  PARM_DEVICE_TENSORS(T)                                                            \
  template LocalWeights<T> make_local_weights<T>(const Config&, const RankLayout&); \
  template LocalGradients<T> zero_gradients_like<T>(const LocalWeights<T>&);
PARM_LOCAL_WEIGHTS(float)
PARM_LOCAL_WEIGHTS(double)
PARM_LOCAL_WEIGHTS(Bf16)
PARM_LOCAL_WEIGHTS(F16)
#undef PARM_LOCAL_WEIGHTS
#undef PARM_DEVICE_TENSORS

}  // namespace parm
