// How a CUDA device's raw properties are written in DeviceDescription (and Nsight Systems' TARGET_INFO_GPU),
// as pure functions (no CUDA) for a host test.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace parm::backend::cuda {

// "0000:1b:00.0" from cudaDeviceProp's pciDomainID, pciBusID, pciDeviceID (function 0: CUDA has no field).
std::string pci_bus_text(int domain, int bus, int device);

// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (nvidia-smi's form) from cudaDeviceProp::uuid's 16 bytes.
std::string gpu_uuid_text(const std::array<unsigned char, 16>& bytes);

// Peak memory bandwidth in bytes/s from the memory clock (kHz) and bus width (bits): double data rate, as
// CUDA's bandwidthTest sample computes it. 0 when either is unknown.
std::int64_t memory_bandwidth_bytes_s(std::int64_t memory_clock_khz, std::int64_t bus_width_bits);

// "NCCL 2.28.9" from ncclGetVersion's code (22809: X*10000 + Y*100 + Z since 2.9; 2804: X*1000 + Y*100 + Z
// before).
std::string nccl_version_text(int code);

}  // namespace parm::backend::cuda
