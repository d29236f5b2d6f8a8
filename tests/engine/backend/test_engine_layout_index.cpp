// The layout index maps (kernels/layout_index.h) against naive loops written from the tensor shapes
// (schedule_ir.h), over a grid of shapes; and the cpu backend's copy_blocks applying them.
#include <QtTest>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/backend/backend.h"
#include "kernels/layout_index.h"

using namespace parm;
using Index = std::int64_t;

namespace {

// out[dst element] = in[src element] for the map, element by element (as a CUDA kernel would do it).
std::vector<Index> apply(const layout::BlockCopy& map, Index out_size) {
  std::vector<Index> out(static_cast<std::size_t>(out_size), -1);
  for (Index k = 0; k < map.elements(); ++k) {
    const Index block = k / map.length, within = k % map.length;
    out[static_cast<std::size_t>(map.dst_offset(block) + within)] = map.src_offset(block) + within;
  }
  return out;
}

// The expected source index of each output element, from a naive loop over the tensor indices.
using Naive = std::function<void(std::vector<Index>&)>;

void expect_same(const layout::BlockCopy& map, Index out_size, const Naive& naive, const char* what) {
  std::vector<Index> want(static_cast<std::size_t>(out_size), -1);
  naive(want);
  QVERIFY2(apply(map, out_size) == want, what);
}

}  // namespace

class TestLayoutIndex : public QObject {
  Q_OBJECT
 private slots:
  void mapsMatchNaiveLoops() {
    int checked = 0;
    for (Index n : {1, 2, 3, 4})
      for (Index blocks : {1, 2, 5})
        for (Index c : {1, 3})
          for (Index m : {1, 4}) {
            const Index slot_count = n * c;
            // Split capacity: out (blocks, c, m) <- in (blocks, n*c, m) at slot_count j*c + s.
            for (Index j = 0; j < n; ++j)
              expect_same(
                  layout::split_capacity(blocks, slot_count, n, j, m), blocks * c * m,
                  [&](std::vector<Index>& w) {
                    for (Index b = 0; b < blocks; ++b)
                      for (Index s = 0; s < c; ++s)
                        for (Index x = 0; x < m; ++x)
                          w[std::size_t((b * c + s) * m + x)] = (b * slot_count + j * c + s) * m + x;
                  },
                  "split_capacity");
            // Transpose blocks (2DH AlltoAll): out (cols, rows, len) <- in (rows, cols, len); twice is the
            // identity.
            for (Index rows : {1, 2, 3})
              for (Index cols : {1, 2, 4}) {
                const Index len = c * m;
                expect_same(
                    layout::transpose_blocks(rows, cols, len), rows * cols * len,
                    [&](std::vector<Index>& w) {
                      for (Index r = 0; r < rows; ++r)
                        for (Index q = 0; q < cols; ++q)
                          for (Index x = 0; x < len; ++x)
                            w[std::size_t((q * rows + r) * len + x)] = (r * cols + q) * len + x;
                    },
                    "transpose_blocks");
                const std::vector<Index> once =
                    apply(layout::transpose_blocks(rows, cols, len), rows * cols * len);
                const std::vector<Index> back =
                    apply(layout::transpose_blocks(cols, rows, len), rows * cols * len);
                for (Index k = 0; k < rows * cols * len; ++k)
                  QCOMPARE(once[std::size_t(back[std::size_t(k)])], k);
              }
            // Slice slots (a capacity chunk): out (blocks, len, m) <- in (blocks, slot_count, m) slots
            // [first, first+len); place slots is its inverse into a slot_count-wide output.
            for (Index first = 0; first < slot_count; ++first)
              for (Index len = 1; first + len <= slot_count; ++len) {
                expect_same(
                    layout::slice_slots(blocks, slot_count, first, len, m), blocks * len * m,
                    [&](std::vector<Index>& w) {
                      for (Index b = 0; b < blocks; ++b)
                        for (Index s = 0; s < len; ++s)
                          for (Index x = 0; x < m; ++x)
                            w[std::size_t((b * len + s) * m + x)] = (b * slot_count + first + s) * m + x;
                    },
                    "slice_slots");
                expect_same(
                    layout::place_slots(blocks, slot_count, first, len, m), blocks * slot_count * m,
                    [&](std::vector<Index>& w) {
                      for (Index b = 0; b < blocks; ++b)
                        for (Index s = 0; s < len; ++s)
                          for (Index x = 0; x < m; ++x)
                            w[std::size_t((b * slot_count + first + s) * m + x)] = (b * len + s) * m + x;
                    },
                    "place_slots");
              }
            // Interleave: out (blocks, n*c, m) slot p*c + s <- in (n, blocks, c, m).
            expect_same(
                layout::interleave_capacity(n, blocks, c, m), n * blocks * c * m,
                [&](std::vector<Index>& w) {
                  for (Index p = 0; p < n; ++p)
                    for (Index b = 0; b < blocks; ++b)
                      for (Index s = 0; s < c; ++s)
                        for (Index x = 0; x < m; ++x)
                          w[std::size_t((b * slot_count + p * c + s) * m + x)] =
                              ((p * blocks + b) * c + s) * m + x;
                },
                "interleave_capacity");
            // Group (ReduceScatter regroup): out (n, blocks, c, m) <- in (blocks, n*c, m).
            expect_same(
                layout::group_capacity(n, blocks, slot_count, m), n * blocks * c * m,
                [&](std::vector<Index>& w) {
                  for (Index p = 0; p < n; ++p)
                    for (Index b = 0; b < blocks; ++b)
                      for (Index s = 0; s < c; ++s)
                        for (Index x = 0; x < m; ++x)
                          w[std::size_t(((p * blocks + b) * c + s) * m + x)] =
                              (b * slot_count + p * c + s) * m + x;
                },
                "group_capacity");
            // Expert pack/unpack over (outer = n, experts = blocks, c, m).
            for (Index e = 0; e < blocks; ++e) {
              expect_same(
                  layout::pack_expert(n, blocks, e, c, m), n * c * m,
                  [&](std::vector<Index>& w) {
                    for (Index o = 0; o < n; ++o)
                      for (Index r = 0; r < c * m; ++r)
                        w[std::size_t(o * c * m + r)] = ((o * blocks + e) * c) * m + r;
                  },
                  "pack_expert");
              expect_same(
                  layout::unpack_expert(n, blocks, e, c, m), n * blocks * c * m,
                  [&](std::vector<Index>& w) {
                    for (Index o = 0; o < n; ++o)
                      for (Index r = 0; r < c * m; ++r)
                        w[std::size_t(((o * blocks + e) * c) * m + r)] = o * c * m + r;
                  },
                  "unpack_expert");
            }
            // Pipeline pieces: W = blocks peers, chunk = c*m elements.
            const Index w_peers = blocks, chunk = c * m;
            for (Index peer = 0; peer < w_peers; ++peer) {
              expect_same(
                  layout::pack_peer_pieces(n, w_peers, peer, chunk), n * chunk,
                  [&](std::vector<Index>& w) {
                    for (Index p = 0; p < n; ++p)
                      for (Index x = 0; x < chunk; ++x)
                        w[std::size_t(p * chunk + x)] = (p * w_peers + peer) * chunk + x;
                  },
                  "pack_peer_pieces");
              expect_same(
                  layout::place_peer_pieces(n, w_peers, peer, chunk), n * w_peers * chunk,
                  [&](std::vector<Index>& w) {
                    for (Index p = 0; p < n; ++p)
                      for (Index x = 0; x < chunk; ++x)
                        w[std::size_t((p * w_peers + peer) * chunk + x)] = p * chunk + x;
                  },
                  "place_peer_pieces");
            }
            // Split along outer (outer = n*blocks rows of m): keep rows [j*blocks, (j+1)*blocks).
            for (Index j = 0; j < n; ++j)
              expect_same(
                  layout::split_outer(blocks, m, j), blocks * m,
                  [&](std::vector<Index>& w) {
                    for (Index r = 0; r < blocks * m; ++r) w[std::size_t(r)] = j * blocks * m + r;
                  },
                  "split_outer");
            ++checked;
          }
    QCOMPARE(checked, 4 * 3 * 2 * 2);
  }

  void cpuCopyBlocksAppliesTheMap() {
    auto b = backend::make_backend(parm::Backend::Cpu);
    const Index n = 3, blocks = 2, c = 2, m = 3, size = n * blocks * c * m;
    backend::Buffer<float> in(b->allocator(), std::size_t(size)), out(b->allocator(), std::size_t(size));
    for (Index i = 0; i < size; ++i) in.data()[i] = float(i);
    const layout::BlockCopy map = layout::interleave_capacity(n, blocks, c, m);
    b->compute<float>().copy_blocks(b->stream(Lane::Intra), in.view(), out.view(), map);
    b->synchronize();
    const std::vector<Index> want = apply(map, size);
    for (Index i = 0; i < size; ++i) QCOMPARE(out.data()[i], float(want[std::size_t(i)]));
    // A map that writes past its destination is refused at enqueue time.
    backend::Buffer<float> small(b->allocator(), 4);
    QVERIFY_THROWS_EXCEPTION(std::logic_error, b->compute<float>().copy_blocks(b->stream(Lane::Intra),
                                                                               in.view(), small.view(), map));
  }
};

QTEST_APPLESS_MAIN(TestLayoutIndex)
#include "test_engine_layout_index.moc"
