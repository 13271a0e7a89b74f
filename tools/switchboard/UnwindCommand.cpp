// `switchboard unwind FILE`: the whole x64 exception directory at a glance:
// entries, chains, handlers by name, decode warnings and prolog disagreements.
#include "UnwindFormat.h"

#include <chrono>
#include <map>

namespace sb::cli {
namespace {
struct UnwindOptions : CommonOptions {
  bool all = false;
};
} // namespace

Command unwindCommand() {
  auto o = std::make_shared<UnwindOptions>();
  return {"unwind", "Summary of the x64 exception directory: chains, handlers, prolog check", Needs::X64, {}, o,
          [o](CLI::App &cmd) { cmd.add_flag("--all", o->all, "List every warning and prolog disagreement in text output"); },
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const pe::PeImage &img = a->image();
    const auto &rf = img.runtimeFunctions();
    const unwind::ExceptionDirectory &dir = a->exceptionDirectory();
    const code::Decoder &dec = a->decoder();   // x64 (Needs::X64)

    auto t0 = std::chrono::steady_clock::now();
    size_t chained = 0, indirect = 0, decoded = 0, failed = 0;
    std::map<int, size_t> versions;
    std::vector<std::string> warnings;
    std::vector<const pe::RuntimeFunction *> withHandler;
    std::vector<unwind::UnwindInfo> infos(rf.size());
    for (size_t i = 0; i < rf.size(); ++i) {
      const auto &e = rf[i];
      chained += e.isChained();
      indirect += e.indirect;
      if (e.indirect)
        continue;
      auto u = unwind::decodeUnwindInfo(img, e.unwindRva);
      if (!u) {
        ++failed;
        warnings.push_back(fmt::format("{:x}: {}", e.begin, u.error()));
        continue;
      }
      ++decoded;
      ++versions[u->version];
      for (const auto &w : u->warnings)
        warnings.push_back(fmt::format("{:x}: {}", e.begin, w));
      infos[i] = u.take();
    }
    double decodeSecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto &w : img.warnings())
      warnings.push_back(w);

    auto t1 = std::chrono::steady_clock::now();
    const unwind::HandlerCatalog &catalog = a->handlerCatalog();
    std::map<std::string, size_t> handlers;
    size_t scopeRecords = 0;
    for (const auto &[rva, h] : catalog.all())
      handlers[h.name] += h.users;
    for (size_t i = 0; i < rf.size(); ++i) {
      const unwind::UnwindInfo &u = infos[i];
      if (!u.handlerRva || rf[i].isChained())
        continue;
      unwind::HandlerKind k = catalog.of(*u.handlerRva).kind;
      if (k == unwind::HandlerKind::CSpecific || k == unwind::HandlerKind::GSHandlerCheckSEH)
        scopeRecords += unwind::decodeHandlerData(*a, catalog, u, rf[i].begin, rf[i].end).scopes.size();
    }
    std::vector<unwind::PrologMismatch> mismatches;
    for (const auto &e : rf)
      if (!e.isChained()) {
        auto m = unwind::checkProlog(dir, dec, e);
        mismatches.insert(mismatches.end(), m.begin(), m.end());
      }
    double checkSecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    size_t mismatchFunctions = 0;
    for (size_t i = 0; i < mismatches.size(); ++i)
      mismatchFunctions += i == 0 || mismatches[i].begin != mismatches[i - 1].begin;
    c.phase("render");

    if (o->json) {
      json h = json::object();
      for (auto &[n, c] : handlers)
        h[n] = c;
      json mm = json::array();
      for (const auto &m : mismatches)
        mm.push_back({{"begin_rva", m.begin}, {"message", m.message}});
      json v = json::object();
      for (auto &[ver, c] : versions)
        v[std::to_string(ver)] = c;
      printJson({{"file", o->file},
                 {"entries", rf.size()},
                 {"chained", chained},
                 {"indirect", indirect},
                 {"decoded", decoded},
                 {"unreadable", failed},
                 {"overlapping", dir.overlapping()},
                 {"versions", v},
                 {"handlers", h},
                 {"scope_records", scopeRecords},
                 {"prolog_mismatches", mm},
                 {"prolog_mismatch_functions", mismatchFunctions},
                 {"warnings", warnings}});   // no timings: deterministic (--stats times the phases)
      return kExitOk;
    }
    fmt::print("{}: {} RUNTIME_FUNCTIONs ({} primary, {} chained, {} indirect), {} overlapping\n", o->file, rf.size(),
               rf.size() - chained, chained, indirect, dir.overlapping());
    fmt::print("unwind infos decoded: {} ({} unreadable)", decoded, failed);
    for (auto &[ver, c] : versions)
      fmt::print(", version {}: {}", ver, c);
    fmt::print("  [{:.3f} s]\n", decodeSecs);
    fmt::print("handlers (primary entries):\n");
    for (auto &[n, c] : handlers)
      fmt::print("  {:>7}  {}\n", c, n);
    if (scopeRecords)
      fmt::print("C scope table records: {}\n", scopeRecords);
    fmt::print("prolog disagreements: {} in {} functions  [{:.3f} s]\n", mismatches.size(), mismatchFunctions, checkSecs);
    size_t shown = 0;
    for (const auto &m : mismatches) {
      if (!o->all && shown++ == 20) {
        fmt::print("  ... (--all lists them all)\n");
        break;
      }
      fmt::print("  {}: {}\n", symbolize(*a, m.begin), m.message);
    }
    if (!warnings.empty()) {
      fmt::print("warnings: {}\n", warnings.size());
      shown = 0;
      for (const auto &w : warnings) {
        if (!o->all && shown++ == 20) {
          fmt::print("  ... (--all lists them all)\n");
          break;
        }
        fmt::print("  ! {}\n", w);
      }
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
