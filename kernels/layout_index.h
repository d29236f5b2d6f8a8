// The index maps of every layout transform the executor applies to a dispatched tensor (outer, experts,
// slots, M) or to a fused pipeline's chunks. Each transform is a set of equal blocks: block i is `length`
// contiguous elements copied from src_offset(i) to dst_offset(i). The cpu backend loops over blocks with
// std::copy_n; a CUDA kernel maps element k of the output to block k / length. Plain arithmetic only, so the
// header compiles for host and device (PARM_HD).
#pragma once

#include <cstdint>

#include "kernels/hd.h"

namespace parm::layout {

enum class Transform {
  Contiguous,          // one block: a slice [a*length, (a+1)*length) (split along outer)
  SplitCapacity,       // keep slots [j*c, (j+1)*c) of each of `blocks` (outer, expert) rows
  InterleaveCapacity,  // AllGather pieces (n, blocks, c, M) -> (blocks, n*c, M)
  GroupCapacity,       // ReduceScatter regroup (blocks, n*c, M) -> (n, blocks, c, M)
  PackExpert,          // expert e's rows of (outer, experts, c, M) -> contiguous (outer*c, M)
  UnpackExpert,        // the inverse of PackExpert
  PackPeerPieces,      // pipeline ReduceScatter: pieces [p][dst] of a peer-major (n*W) input -> (n)
  PlacePeerPieces,     // pipeline AllGather: n gathered pieces of chunk src -> peer-major slots p*W + src
  SliceSlots,          // pipeline degree r: slots [s0, s0+len) of each row block -> a chunk (blocks, len, M)
  PlaceSlots,          // the inverse: a chunk's (blocks, len, M) back into slots [s0, s0+len) of each row
  TransposeBlocks,     // 2DH AlltoAll: a (rows, cols) matrix of blocks -> (cols, rows)
};

struct BlockCopy {
  Transform kind = Transform::Contiguous;
  std::int64_t blocks = 0;  // number of blocks copied
  std::int64_t length = 0;  // elements per block
  // Kind-specific: Contiguous (a = block index); SplitCapacity (a = slot_count/c, b = j);
  // Interleave/GroupCapacity (a = n, b = row blocks); TransposeBlocks (a = rows, b = cols); Pack/UnpackExpert
  // (a = experts, b = e); Pack/PlacePeerPieces (a = W, b = dst or src chunk); Slice/PlaceSlots (a = the row
  // stride slot_count*M, b = the first slot's offset s0*M).
  std::int64_t a = 0, b = 0;

  PARM_HD std::int64_t src_offset(std::int64_t i) const {
    switch (kind) {
      case Transform::Contiguous:
        return a * length;
      case Transform::SplitCapacity:  // slot_count = a * c: row block i, slot range b
        return (i * a + b) * length;
      case Transform::InterleaveCapacity:  // dst (blk*n + p) <- src (p*blocks + blk)
      case Transform::TransposeBlocks:     // the same map: dst (c*rows + r) <- src (r*cols + c)
        return ((i % a) * b + i / a) * length;
      case Transform::GroupCapacity:  // dst (p*blocks + blk) <- src (blk*n + p)
        return ((i % b) * a + i / b) * length;
      case Transform::PackExpert:  // dst o <- src (o*experts + e)
        return (i * a + b) * length;
      case Transform::UnpackExpert:
        return i * length;
      case Transform::PackPeerPieces:  // dst p <- src (p*W + dst)
        return (i * a + b) * length;
      case Transform::PlacePeerPieces:
        return i * length;
      case Transform::SliceSlots:
        return i * a + b;
      case Transform::PlaceSlots:
        return i * length;
    }
    return 0;
  }

  PARM_HD std::int64_t dst_offset(std::int64_t i) const {
    switch (kind) {
      case Transform::UnpackExpert:     // dst (o*experts + e) <- src o
      case Transform::PlacePeerPieces:  // dst (p*W + src) <- src p
        return (i * a + b) * length;
      case Transform::PlaceSlots:
        return i * a + b;
      default:
        return i * length;
    }
  }

  PARM_HD std::int64_t elements() const { return blocks * length; }
};

// Split along outer: keep outer blocks [j*keep, (j+1)*keep), each `block` elements.
inline BlockCopy split_outer(std::int64_t keep, std::int64_t block, std::int64_t j) {
  return {Transform::Contiguous, 1, keep * block, j, 0};
}
// Split along capacity: `row_blocks` = outer*experts rows of slot_count slots, keep 1/n of them (index j).
inline BlockCopy split_capacity(std::int64_t row_blocks, std::int64_t slot_count, std::int64_t n,
                                std::int64_t j, std::int64_t m) {
  return {Transform::SplitCapacity, row_blocks, slot_count / n * m, n, j};
}
// Slots [first, first+count) of each of `row_blocks` rows of `slot_count` slots of width m, and back.
inline BlockCopy slice_slots(std::int64_t row_blocks, std::int64_t slot_count, std::int64_t first,
                             std::int64_t count, std::int64_t m) {
  return {Transform::SliceSlots, row_blocks, count * m, slot_count * m, first * m};
}
inline BlockCopy place_slots(std::int64_t row_blocks, std::int64_t slot_count, std::int64_t first,
                             std::int64_t count, std::int64_t m) {
  return {Transform::PlaceSlots, row_blocks, count * m, slot_count * m, first * m};
}
inline BlockCopy interleave_capacity(std::int64_t n, std::int64_t row_blocks, std::int64_t c,
                                     std::int64_t m) {
  return {Transform::InterleaveCapacity, n * row_blocks, c * m, n, row_blocks};
}
// slot_count is the full n*c.
inline BlockCopy group_capacity(std::int64_t n, std::int64_t row_blocks, std::int64_t slot_count,
                                std::int64_t m) {
  return {Transform::GroupCapacity, n * row_blocks, slot_count / n * m, n, row_blocks};
}
// Block (r, c) of a rows x cols matrix of `length`-element blocks to (c, r).
inline BlockCopy transpose_blocks(std::int64_t rows, std::int64_t cols, std::int64_t length) {
  return {Transform::TransposeBlocks, rows * cols, length, rows, cols};
}
inline BlockCopy pack_expert(std::int64_t outer, std::int64_t experts, std::int64_t e, std::int64_t c,
                             std::int64_t m) {
  return {Transform::PackExpert, outer, c * m, experts, e};
}
inline BlockCopy unpack_expert(std::int64_t outer, std::int64_t experts, std::int64_t e, std::int64_t c,
                               std::int64_t m) {
  return {Transform::UnpackExpert, outer, c * m, experts, e};
}
inline BlockCopy pack_peer_pieces(std::int64_t n, std::int64_t w, std::int64_t dst, std::int64_t chunk) {
  return {Transform::PackPeerPieces, n, chunk, w, dst};
}
inline BlockCopy place_peer_pieces(std::int64_t n, std::int64_t w, std::int64_t src, std::int64_t chunk) {
  return {Transform::PlacePeerPieces, n, chunk, w, src};
}

}  // namespace parm::layout
