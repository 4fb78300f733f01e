#include "skeletons.h"

#include "cpu.skel.h"
#include "heap.skel.h"

namespace hotline::skeleton {

cpu_bpf* open_cpu() { return cpu_bpf::open(); }
int load_cpu(cpu_bpf* skel) { return cpu_bpf::load(skel); }
void destroy_cpu(cpu_bpf* skel) { cpu_bpf::destroy(skel); }
heap_bpf* open_heap() { return heap_bpf::open(); }
int load_heap(heap_bpf* skel) { return heap_bpf::load(skel); }
void destroy_heap(heap_bpf* skel) { heap_bpf::destroy(skel); }

}  // namespace hotline::skeleton
