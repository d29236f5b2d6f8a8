// The cuda backend's communicators on a device, under mpiexec (-np 1, 2, 4; several ranks share the GPU):
// every collective and dtype of the host-staged `cuda+mpi` groups equals the cpu communicator's result on
// the same inputs (bit for bit: the inputs are small integers, so every reduction order is exact), staging
// allocates nothing once shapes repeat, and a failed MPI part drains the stream and is rethrown by
// synchronize. NCCL (`cuda`): with one GPU per rank (-np 1 on one GPU) the same collectives are right; with
// two ranks on one GPU it is refused in one line naming cuda+mpi. Exits 77 without a device.
#include <cuda_runtime_api.h>
#include <mpi.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/cuda/comm_watch.h"
#include "engine/backend/cuda/staged_communicator.h"
#include "engine/comm/comm_mpi.h"
#include "engine/core/rank_layout.h"
#include "kernels/cuda/device_info.h"
#include "kernels/half_types.h"
#include "tests/support/gpu_check.h"
#if PARM_WITH_NCCL
#include "engine/backend/cuda/nccl_communicator.h"
#endif

using namespace parm;
using namespace parm::backend;
using namespace parm::backend::cuda;
using comm::DataType;
using comm::GroupKind;

namespace {

void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// A backend stream on a CUDA stream, synchronised through the communicators' watch as the shell's must.
class TestEvent final : public backend::Event {
 public:
  TestEvent() { cuda_ok(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate"); }
  ~TestEvent() override { cudaEventDestroy(event); }
  void synchronize() override { cuda_ok(cudaEventSynchronize(event), "cudaEventSynchronize"); }
  bool done() const override { return cudaEventQuery(event) != cudaErrorNotReady; }
  cudaEvent_t event = nullptr;
};

class TestStream final : public backend::Stream {
 public:
  TestStream(Lane lane, CudaContext& context) : lane_(lane), context_(context) {
    cuda_ok(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~TestStream() override { cudaStreamDestroy(stream); }
  Lane lane() const override { return lane_; }
  void record(backend::Event& e) override {
    cuda_ok(cudaEventRecord(static_cast<TestEvent&>(e).event, stream), "cudaEventRecord");
  }
  void wait(backend::Event& e) override {
    cuda_ok(cudaStreamWaitEvent(stream, static_cast<TestEvent&>(e).event), "cudaStreamWaitEvent");
  }
  void synchronize() override {
    wait_watching_comm(context_, [this] { return cudaStreamQuery(stream) != cudaErrorNotReady; });
    cuda_ok(cudaStreamQuery(stream), "stream");
  }
  cudaStream_t stream = nullptr;

 private:
  Lane lane_;
  CudaContext& context_;
};

struct World {
  int rank = 0, size = 1, devices = 0;
  comm::CommGroups transport;
  CudaContext context;
  std::unique_ptr<TestStream> streams[kLaneCount];
  std::unique_ptr<backend::Backend> cpu;  // the reference: the cpu communicator on host buffers
  StreamGroups cpu_groups;
};
World* world = nullptr;

cudaStream_t test_stream_of(Stream& s) {
  return static_cast<TestStream&>(s).stream;
}

TestStream& lane_stream(Lane lane) {
  return *world->streams[static_cast<int>(lane)];
}

// Small integers: exact in every dtype, and every sum of up to 4 ranks is exact too.
double input(int rank, std::size_t i, int salt) {
  return static_cast<double>(static_cast<long>((static_cast<std::size_t>(rank) * 7 + i * 3 + salt) % 17) - 8);
}

std::vector<std::byte> encode(DataType t, const std::vector<double>& v) {
  std::vector<std::byte> out(v.size() * comm::size_of(t));
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::byte* at = out.data() + i * comm::size_of(t);
    const auto put = [&](auto x) { std::memcpy(at, &x, sizeof x); };
    switch (t) {
      case DataType::F32:
        put(static_cast<float>(v[i]));
        break;
      case DataType::F64:
        put(v[i]);
        break;
      case DataType::BF16:
        put(Bf16(static_cast<float>(v[i])));
        break;
      case DataType::F16:
        put(F16(static_cast<float>(v[i])));
        break;
      case DataType::I64:
        put(static_cast<std::int64_t>(v[i]));
        break;
    }
  }
  return out;
}

std::vector<double> decode(DataType t, const std::vector<std::byte>& b) {
  std::vector<double> out(b.size() / comm::size_of(t));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::byte* at = b.data() + i * comm::size_of(t);
    const auto get = [&](auto x) {
      std::memcpy(&x, at, sizeof x);
      return x;
    };
    switch (t) {
      case DataType::F32:
        out[i] = get(0.0f);
        break;
      case DataType::F64:
        out[i] = get(0.0);
        break;
      case DataType::BF16:
        out[i] = static_cast<double>(get(Bf16()));
        break;
      case DataType::F16:
        out[i] = static_cast<double>(get(F16()));
        break;
      case DataType::I64:
        out[i] = static_cast<double>(get(std::int64_t{}));
        break;
    }
  }
  return out;
}

const char* name_of(DataType t) {
  static const char* names[] = {"f32", "f64", "bf16", "f16", "i64"};
  return names[static_cast<int>(t)];
}

class DeviceBytes {
 public:
  explicit DeviceBytes(const std::vector<std::byte>& host) : bytes_(host.size()) {
    cuda_ok(cudaMalloc(&data_, std::max<std::size_t>(bytes_, 1)), "cudaMalloc");
    if (bytes_) cuda_ok(cudaMemcpy(data_, host.data(), bytes_, cudaMemcpyHostToDevice), "upload");
  }
  explicit DeviceBytes(std::size_t bytes) : DeviceBytes(std::vector<std::byte>(bytes, std::byte{0x7f})) {}
  ~DeviceBytes() { cudaFree(data_); }
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;
  void* get() const { return data_; }
  std::vector<std::byte> download() const {
    std::vector<std::byte> out(bytes_);
    if (bytes_) cuda_ok(cudaMemcpy(out.data(), data_, bytes_, cudaMemcpyDeviceToHost), "download");
    return out;
  }

 private:
  void* data_ = nullptr;
  std::size_t bytes_;
};

// One collective as the test runs it twice: on host buffers through the cpu communicator (the reference)
// and on device buffers through the communicator under test; both write `recv` (in place: `send`).
struct Collective {
  std::string name;
  std::vector<double> send;
  std::size_t recv_elements;  // 0: in place
  std::function<void(StreamCommunicator&, Stream&, const void*, void*)> run;
};

std::vector<Collective> collectives(int p, int me, DataType t, bool exact_reference) {
  std::vector<Collective> all;
  const auto ps = static_cast<std::size_t>(p);
  const auto make = [&](std::size_t n, int salt) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = input(me, i, salt);
    return v;
  };
  all.push_back(
      {"AlltoAll", make(5 * ps, 1), 5 * ps,
       [t](StreamCommunicator& c, Stream& s, const void* a, void* b) { c.all_to_all(s, a, b, 5, t); }});
  std::vector<std::size_t> sc(ps), rc(ps);
  std::size_t st = 0, rt = 0;
  for (int q = 0; q < p; ++q) {  // uneven and asymmetric: my send to q is q's receive from me
    st += sc[static_cast<std::size_t>(q)] = static_cast<std::size_t>((2 * me + q) % 3 + 1);
    rt += rc[static_cast<std::size_t>(q)] = static_cast<std::size_t>((2 * q + me) % 3 + 1);
  }
  all.push_back(
      {"AlltoAllv", make(st, 2), rt, [t, sc, rc](StreamCommunicator& c, Stream& s, const void* a, void* b) {
         c.all_to_all_v(s, a, sc, b, rc, t);
       }});
  all.push_back(
      {"AllGather", make(7, 3), 7 * ps,
       [t](StreamCommunicator& c, Stream& s, const void* a, void* b) { c.all_gather(s, a, b, 7, t); }});
  all.push_back(
      {"SendRecv ring", make(9, 4), 9, [t, p, me](StreamCommunicator& c, Stream& s, const void* a, void* b) {
         c.send_recv(s, a, 9, (me + 1) % p, b, 9, (me + p - 1) % p, t);
       }});
  if (!exact_reference) return all;  // 16-bit reductions: the cpu communicator refuses them (checked below)
  all.push_back(
      {"ReduceScatter", make(6 * ps, 5), 6,
       [t](StreamCommunicator& c, Stream& s, const void* a, void* b) { c.reduce_scatter(s, a, b, 6, t); }});
  all.push_back({"AllReduce sum (ragged)", make(4099, 6), 0,
                 [t](StreamCommunicator& c, Stream& s, const void*, void* b) {
                   c.all_reduce(s, b, 4099, t, ReduceOp::Sum);
                 }});
  all.push_back(
      {"AllReduce max", make(33, 7), 0, [t](StreamCommunicator& c, Stream& s, const void*, void* b) {
         c.all_reduce(s, b, 33, t, ReduceOp::Max);
       }});
  return all;
}

// The reference on host memory, through the cpu backend's communicator of the same group.
std::vector<std::byte> reference(GroupKind kind, const Collective& op, DataType t) {
  std::vector<std::byte> send = encode(t, op.send);
  std::vector<std::byte> recv(op.recv_elements * comm::size_of(t));
  Stream& s = world->cpu->stream(Lane::Intra);
  op.run(world->cpu_groups[kind], s, send.data(), op.recv_elements ? recv.data() : send.data());
  world->cpu->synchronize();
  return op.recv_elements ? recv : send;
}

std::vector<std::byte> on_device(StreamCommunicator& c, Lane lane, const Collective& op, DataType t) {
  DeviceBytes send(encode(t, op.send));
  DeviceBytes recv(op.recv_elements * comm::size_of(t));
  op.run(c, lane_stream(lane), send.get(), op.recv_elements ? recv.get() : send.get());
  lane_stream(lane).synchronize();
  return op.recv_elements ? recv.download() : send.download();
}

// The exact reduction of every rank's inputs, for the dtypes the cpu communicator cannot reduce.
std::vector<double> exact_sum(int p, int salt, std::size_t offset, std::size_t count) {
  std::vector<double> out(count, 0.0);
  for (int r = 0; r < p; ++r)
    for (std::size_t i = 0; i < count; ++i) out[i] += input(r, offset + i, salt);
  return out;
}

void expect_equal(const std::string& what, const std::vector<double>& got, const std::vector<double>& want) {
  PARM_CHECK(got.size() == want.size(),
             what + ": " + std::to_string(got.size()) + " elements, expected " + std::to_string(want.size()));
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i)
    if (got[i] != want[i]) {
      PARM_CHECK(got[i] == want[i], what + ": element " + std::to_string(i) + " is " +
                                        std::to_string(got[i]) + ", expected " + std::to_string(want[i]));
      return;
    }
}

constexpr DataType kTypes[] = {DataType::F32, DataType::F64, DataType::BF16, DataType::F16, DataType::I64};
constexpr GroupKind kKinds[] = {GroupKind::World, GroupKind::MP, GroupKind::EP, GroupKind::ESPFused};

// Every collective, dtype and group kind of `groups` against the reference; lanes alternate so several
// host threads and signals take part.
void check_all_collectives(StreamGroups& groups, const std::string& label) {
  int turn = 0;
  for (GroupKind kind : kKinds) {
    StreamCommunicator& c = groups[kind];
    for (DataType t : kTypes) {
      const bool exact = t != DataType::BF16 && t != DataType::F16;
      for (const Collective& op : collectives(c.size(), c.rank(), t, exact)) {
        const Lane lane = (turn++ % 2) ? Lane::Inter : Lane::Intra;
        const std::string what = label + " " + op.name + " " + name_of(t) + " on " + c.name();
        expect_equal(what, decode(t, on_device(c, lane, op, t)), decode(t, reference(kind, op, t)));
      }
      if (exact) continue;
      // 16-bit reductions (fp32 on the host for cuda+mpi, native in NCCL) against the exact sums.
      const int p = c.size(), me = c.rank();
      std::vector<double> in(6 * static_cast<std::size_t>(p));
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = input(me, i, 5);
      Collective rs{"ReduceScatter", in, 6, [t](StreamCommunicator& cc, Stream& s, const void* a, void* b) {
                      cc.reduce_scatter(s, a, b, 6, t);
                    }};
      expect_equal(label + " ReduceScatter " + name_of(t) + " on " + c.name(),
                   decode(t, on_device(c, Lane::Intra, rs, t)),
                   exact_sum(p, 5, 6 * static_cast<std::size_t>(me), 6));
      std::vector<double> ar(4099);
      for (std::size_t i = 0; i < ar.size(); ++i) ar[i] = input(me, i, 6);
      Collective sum{"AllReduce", ar, 0, [t](StreamCommunicator& cc, Stream& s, const void*, void* b) {
                       cc.all_reduce(s, b, 4099, t, ReduceOp::Sum);
                     }};
      expect_equal(label + " AllReduce " + name_of(t) + " on " + c.name(),
                   decode(t, on_device(c, Lane::Inter, sum, t)), exact_sum(p, 6, 0, ar.size()));
    }
    c.barrier(lane_stream(Lane::Compute));
    lane_stream(Lane::Compute).synchronize();
  }
}

// Many collectives in flight on two lanes before one synchronize: order and staging hold under depth.
// Concurrent lanes use different communicators (world on intra, MP#fused on inter), as the executor's fused
// pipelines do: MPI orders collectives per communicator.
void check_deep_queue(StreamGroups& groups) {
  const std::size_t n = 1 << 20;  // 4 MiB of fp32 per buffer
  struct InFlight {
    StreamCommunicator* c;
    std::unique_ptr<DeviceBytes> buffer;
  };
  std::vector<InFlight> in_flight;
  for (int k = 0; k < 8; ++k) {
    StreamCommunicator& c = groups[k % 2 ? GroupKind::MPFused : GroupKind::World];
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = input(c.rank(), i, 8 + k);
    in_flight.push_back({&c, std::make_unique<DeviceBytes>(encode(DataType::F32, v))});
    c.all_reduce(lane_stream(k % 2 ? Lane::Inter : Lane::Intra), in_flight.back().buffer->get(), n,
                 DataType::F32, ReduceOp::Sum);
  }
  lane_stream(Lane::Intra).synchronize();
  lane_stream(Lane::Inter).synchronize();
  for (int k = 0; k < 8; ++k) {
    const InFlight& f = in_flight[static_cast<std::size_t>(k)];
    expect_equal("deep queue AllReduce #" + std::to_string(k) + " on " + f.c->name(),
                 decode(DataType::F32, f.buffer->download()), exact_sum(f.c->size(), 8 + k, 0, n));
  }
}

PARM_GPU_CASE(stagedCollectivesEqualTheCpuCommunicator) {
  StreamGroups groups = make_staged_groups_on(world->transport, world->context, &test_stream_of);
  check_all_collectives(groups, "cuda+mpi");
  check_deep_queue(groups);
}

PARM_GPU_CASE(stagingAllocatesNothingOnceShapesRepeat) {
  StreamGroups groups = make_staged_groups_on(world->transport, world->context, &test_stream_of);
  check_all_collectives(groups, "iteration 1");
  const std::int64_t after_first = staging_allocations(groups[GroupKind::World]);
  PARM_CHECK(after_first > 0, "the staged groups allocated no staging block");
  for (int iteration = 2; iteration <= 3; ++iteration) {
    check_all_collectives(groups, "iteration " + std::to_string(iteration));
    PARM_CHECK(staging_allocations(groups[GroupKind::World]) == after_first,
               "iteration " + std::to_string(iteration) + " allocated " +
                   std::to_string(staging_allocations(groups[GroupKind::World]) - after_first) +
                   " staging blocks");
  }
}

// A host part that fails (here the transport refusing a mixed self/peer step before any MPI call, the same
// path a dead peer's CommError takes) still lets the stream drain, and synchronize rethrows it, twice.
PARM_GPU_CASE(stagedFailureDrainsTheStreamAndIsRethrown) {
  if (world->size < 2) return;  // needs a peer
  StreamGroups groups = make_staged_groups_on(world->transport, world->context, &test_stream_of);
  StreamCommunicator& c = groups[GroupKind::World];
  DeviceBytes a(64), b(64);
  c.send_recv(lane_stream(Lane::Inter), a.get(), 4, c.rank(), b.get(), 4, (c.rank() + 1) % c.size(),
              DataType::F32);
  c.all_reduce(lane_stream(Lane::Inter), a.get(), 4, DataType::F32, ReduceOp::Sum);  // skipped after it
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string error;
    try {
      lane_stream(Lane::Inter).synchronize();
    } catch (const comm::CommError& e) {
      error = e.what();
    }
    PARM_CHECK(error.find("SendRecv") != std::string::npos &&
                   error.find("must both be this rank") != std::string::npos,
               "synchronize #" + std::to_string(attempt + 1) + " gave: '" + error + "'");
  }
  PARM_CHECK(cudaStreamQuery(lane_stream(Lane::Inter).stream) == cudaSuccess, "the stream did not drain");
}

#if PARM_WITH_NCCL
PARM_GPU_CASE(ncclOneRankPerGpuOrRefusal) {
  CudaContext& context = world->context;  // the streams' watch is keyed by this context
  context.kind = parm::Backend::Cuda;
  if (world->size > world->devices) {
    // Two ranks on one GPU: every rank refuses, in one line that points to cuda+mpi.
    std::string error;
    try {
      make_nccl_groups_on(world->transport, context, &test_stream_of);
    } catch (const comm::CommError& e) {
      error = e.what();
    }
    PARM_CHECK(error.rfind("ranks 0 and ", 0) == 0 && error.find(" share GPU ") != std::string::npos &&
                   error.find("use backend cuda+mpi") != std::string::npos &&
                   error.find('\n') == std::string::npos,
               "refusal was: '" + error + "'");
    return;
  }
  StreamGroups groups = make_nccl_groups_on(world->transport, context, &test_stream_of);
  check_all_collectives(groups, "nccl");
  context.kind = parm::Backend::CudaMpi;
}
#endif

Config layout_config(int ranks) {
  Config c;
  c.parallel = {ranks, ranks >= 2 ? 2 : 1, ranks >= 2 ? 2 : 1, ranks >= 2 ? 2 : 1};
  c.layer.num_experts = 8;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  comm::ensure_mpi_initialized(&argc, &argv);
  int code = 0;
  {
    World w;
    MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w.size);
    const kernels::cuda::DeviceProbe probe = kernels::cuda::probe_devices();
    if (probe.devices.empty()) {
      code = parm_gpu_test::run_all(w.rank == 0 ? probe.error : "no device on this rank");
    } else {
      w.devices = static_cast<int>(probe.devices.size());
      w.context.device = w.rank % w.devices;  // one process per rank on one host
      w.context.kind = parm::Backend::CudaMpi;
      w.context.local_rank = w.rank;
      w.context.local_size = w.size;
      w.context.timeout = std::chrono::milliseconds(20'000);
      cuda_ok(cudaSetDevice(w.context.device), "cudaSetDevice");
      w.transport = comm::make_mpi_groups(make_rank_layout(layout_config(w.size), w.rank), w.context.timeout);
      for (Lane lane : {Lane::Compute, Lane::Intra, Lane::Inter})
        w.streams[static_cast<int>(lane)] = std::make_unique<TestStream>(lane, w.context);
      w.cpu = make_backend(parm::Backend::Cpu);
      w.cpu_groups = w.cpu->make_groups(w.transport);
      world = &w;
      code = parm_gpu_test::run_all("");
      world = nullptr;
    }
    int worst = code;  // one verdict for the job: a failure on any rank fails every rank
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    code = worst;
  }
  MPI_Finalize();
  return code;
}
