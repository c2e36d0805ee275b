// The compiled bpf/ objects (mpx_xdp.bpf.o, mpx_tc.bpf.o) embedded in the library as byte arrays
// at build time (embed_object.cmake), so the relay loads them with bpf_object__open_mem and needs
// no object path at run time.
#pragma once

#include <span>

namespace mpx::datapath::embedded {

std::span<const unsigned char> xdp_object();
std::span<const unsigned char> tc_object();

}  // namespace mpx::datapath::embedded
