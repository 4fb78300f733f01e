#include "skeletons.h"

#include "cpu.skel.h"

namespace hotline::skeleton {

cpu_bpf* open_cpu() { return cpu_bpf::open(); }
int load_cpu(cpu_bpf* skel) { return cpu_bpf::load(skel); }
void destroy_cpu(cpu_bpf* skel) { cpu_bpf::destroy(skel); }

}  // namespace hotline::skeleton
