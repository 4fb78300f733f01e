#include "report/doctor.h"

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/table.h"

namespace hotline {
namespace {

std::string unwinding(const HostFacts& f) {
  if (f.can_load_bpf() && f.btf && f.bpf_loop) {
    return "unwound in the kernel from each file's .eh_frame (--unwind auto: frame pointers where a file has none), "
           "with the BPF sampler";
  }
  if (f.can_load_bpf() && f.btf) {
    return "frame pointers only: this kernel has no bpf_loop (Linux 5.17+) for the in-kernel unwinder";
  }
  return "frame pointers only: the perf_event fallback cannot unwind from .eh_frame (code built without frame "
         "pointers loses its callers); CAP_BPF and CAP_PERFMON give the BPF sampler's unwinder";
}

}  // namespace

std::string render_doctor_text(const HostFacts& f, const std::vector<Check>& checks, bool color) {
  std::string out = fmt::format("kernel {} {}, running as {}\n", f.kernel_release, f.machine,
                                f.root ? "root" : fmt::format("uid {}", ::getuid()));
  TextTable t;
  t.headers = {"CHECK", "STATUS", "VALUE", "ENABLES"};
  for (const auto& c : checks) {
    const bool colored = color && c.status != CheckStatus::ok;
    t.row_style.emplace_back(colored ? (c.status == CheckStatus::missing ? "\033[31m" : "\033[33m") : "",
                             colored ? "\033[0m" : "");
    t.rows.push_back({c.name, to_string(c.status), c.value, c.enables});
  }
  out += t.render();
  bool any = false;
  for (const auto& c : checks) {
    if (c.remedy.empty()) continue;
    if (!any) out += "\nTo fix:\n";
    any = true;
    out += fmt::format("  {}: {}\n", c.name, c.remedy);
  }
  out += fmt::format("\nCPU recording: {}\n", can_record_cpu(f) ? "possible" : "NOT possible (see above)");
  out += fmt::format("Stacks: {}\n", unwinding(f));
  return out;
}

std::string render_doctor_json(const HostFacts& f, const std::vector<Check>& checks) {
  nlohmann::ordered_json j;
  j["kernel"] = f.kernel_release;
  j["machine"] = f.machine;
  j["root"] = f.root;
  j["can_record_cpu"] = can_record_cpu(f);
  j["unwinding"] = f.can_load_bpf() && f.btf && f.bpf_loop ? "tables" : "frame pointers";
  j["checks"] = nlohmann::ordered_json::array();
  for (const auto& c : checks) {
    j["checks"].push_back({{"name", c.name},
                           {"status", to_string(c.status)},
                           {"value", c.value},
                           {"enables", c.enables},
                           {"remedy", c.remedy}});
  }
  return dump_json(j) + "\n";
}

}  // namespace hotline
