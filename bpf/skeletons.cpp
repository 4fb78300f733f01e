#include "skeletons.h"

#include "cpu.skel.h"
#include "proc.skel.h"
#include "heap.skel.h"
#include "offcpu.skel.h"

namespace hotline::skeleton {

proc_bpf* open_proc() { return proc_bpf::open(); }
int load_proc(proc_bpf* skel) { return proc_bpf::load(skel); }
void destroy_proc(proc_bpf* skel) { proc_bpf::destroy(skel); }
cpu_bpf* open_cpu() { return cpu_bpf::open(); }
int load_cpu(cpu_bpf* skel) { return cpu_bpf::load(skel); }
void destroy_cpu(cpu_bpf* skel) { cpu_bpf::destroy(skel); }
heap_bpf* open_heap() { return heap_bpf::open(); }
int load_heap(heap_bpf* skel) { return heap_bpf::load(skel); }
void destroy_heap(heap_bpf* skel) { heap_bpf::destroy(skel); }
offcpu_bpf* open_offcpu() { return offcpu_bpf::open(); }
int load_offcpu(offcpu_bpf* skel) { return offcpu_bpf::load(skel); }
void destroy_offcpu(offcpu_bpf* skel) { offcpu_bpf::destroy(skel); }

}  // namespace hotline::skeleton
