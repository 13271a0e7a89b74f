// `switchboard stack DUMP [--thread ID|--all] [--modules DIR] [-p] [-r]
// [--port-message VA] [--json]`: every thread's call stack from a minidump,
// walked with its modules' own unwind data (x86: frame data, prologs, EBP),
// like WinDbg's `~*knf` (x86 `~*kb`); -p adds each frame's parameters with
// where each was found, -r its nonvolatile registers (`.frame /r`); what a
// thread handles or waits on (a message, an RPC call, a port message) heads
// its stack, and a WOW64 thread's 32-bit stack follows it. The exception
// context, if the dump has one, is walked too (`.ecxr; knf`), with a C++
// exception's type. --port-message decodes one PORT_MESSAGE (`!alpc /m`).
#include "Common.h"

#include "switchboard/dump/Activity.h"
#include "switchboard/dump/Minidump.h"
#include "switchboard/dump/Modules.h"
#include "switchboard/dump/Params.h"
#include "switchboard/dump/StackWalk.h"
#include "switchboard/dump/Wow64.h"
#include "switchboard/api/ApiTable.h"
#include "switchboard/support/Text.h"

namespace sb::cli {
namespace {
struct StackOptions : CommonOptions {
  std::vector<std::string> modules;
  std::string thread;
  bool registers = false;
  bool params = false;
  bool all = false;
  std::string portMessage;
};

const char *const kParamRegs[] = {"rcx", "rdx", "r8", "r9"};
constexpr unsigned kKbArguments = 3;

json paramsJson(const std::vector<dump::RecoveredParam> &ps) {
  json out = json::array();
  for (const dump::RecoveredParam &p : ps) {
    json sources = json::array();
    for (const dump::ParamSource &s : p.sources)
      sources.push_back({{"value", s.value}, {"from", s.from}});
    out.push_back({{"index", p.index}, {"register", p.onStack ? json(nullptr) : json(kParamRegs[p.index])},
                   {"stack_address", p.stackAddress ? json(*p.stackAddress) : json(nullptr)},
                   {"value", p.value ? json(*p.value) : json(nullptr)},
                   {"from", p.value ? json(p.sources.front().from) : json(nullptr)}, {"conflict", p.conflict()},
                   {"sources", std::move(sources)}, {"name", p.name.empty() ? json(nullptr) : json(p.name)},
                   {"type_name", p.typeName.empty() ? json(nullptr) : json(p.typeName)}});
  }
  return out;
}

void printParams(const std::vector<dump::RecoveredParam> &ps) {
  for (const dump::RecoveredParam &p : ps) {
    const std::string name = p.name.empty() ? "" : fmt::format(" ({})", p.name);
    const std::string where = p.onStack ? fmt::format("arg{}", p.index + 1) : kParamRegs[p.index];
    if (p.value) {
      fmt::print("      {:>4}{} = {:#x}: {}\n", where, name, *p.value, p.sources.front().from);
    } else if (p.conflict()) {
      fmt::print("      {:>4}{} = conflict:\n", where, name);
      for (const dump::ParamSource &s : p.sources)
        fmt::print("            {:#x}: {}\n", s.value, s.from);
    }
  }
}

std::string vaText(dump::Arch arch, uint64_t va) { return formatVa(arch == dump::Arch::X64, va); }

std::string originText(dump::Arch arch, const dump::RegisterOrigin &o) {
  switch (o.kind) {
  case dump::RegisterOrigin::Context: return "context";
  case dump::RegisterOrigin::Saved: return fmt::format("saved by #{:02x} at {}", o.frame, vaText(arch, o.address));
  default: return "unknown";
  }
}

json originJson(const dump::StackFrame &f, unsigned r) {
  const dump::RegisterOrigin &o = f.origins[r];
  json j = {{"value", f.regs.isKnown(r) ? json(f.regs.gpr[r]) : json(nullptr)}};
  j["from"] = o.kind == dump::RegisterOrigin::Context ? "context" : o.kind == dump::RegisterOrigin::Saved ? "saved" : "unknown";
  if (o.kind == dump::RegisterOrigin::Saved) {
    j["saved_by_frame"] = o.frame;
    j["slot_address"] = o.address;
  }
  return j;
}

json frameJson(const dump::StackFrame &f, const dump::MemoryReader &memory, bool registers,
               const std::vector<dump::RecoveredParam> *params) {
  json j = {{"index", f.index}, {"child_sp", f.childSp}, {"return_address", f.returnAddress}};
  j["module"] = f.module ? json(f.module->name()) : json(nullptr);
  j["rva"] = f.module ? json(f.pc - f.module->record().base) : json(nullptr);
  j["pc"] = f.pc;
  j["function"] = f.symbol ? json(f.symbol->function) : json(nullptr);
  j["offset"] = f.symbol ? json(f.symbol->offset) : json(nullptr);
  if (f.symbol && !f.symbol->label.empty())
    j["label"] = f.symbol->label;
  j["frame_size"] = f.frameSize;
  j["how"] = dump::stepHowName(f.how);
  if (f.regs.arch == dump::Arch::X86) {
    json args = json::array();
    for (const std::optional<uint64_t> &a : dump::stackArguments(f, memory, kKbArguments))
      args.push_back(a ? json(*a) : json(nullptr));
    j["args"] = std::move(args);
  }
  if (registers) {
    json nv = json::object();
    for (unsigned r = 0; r < f.regs.count(); ++r)
      if (dump::isNonvolatile(f.regs.arch, r))
        nv[dump::gprName(f.regs.arch, r)] = originJson(f, r);
    j["nonvolatiles"] = std::move(nv);
  }
  if (params)
    j["params"] = paramsJson(*params);
  return j;
}

// x86 frames also show their first three stack arguments, as `kb` does.
std::string kbArguments(const dump::StackFrame &f, const dump::MemoryReader &memory) {
  if (f.regs.arch != dump::Arch::X86)
    return "";
  std::string out;
  for (const std::optional<uint64_t> &a : dump::stackArguments(f, memory, kKbArguments))
    out += a ? fmt::format("{:08x} ", *a) : std::string("???????? ");
  return out;
}

void printFrames(const dump::ThreadStack &s, const dump::MemoryReader &memory, bool registers,
                 const std::vector<std::vector<dump::RecoveredParam>> *params) {
  const dump::Arch arch = s.frames.empty() ? dump::Arch::X64 : s.frames.front().regs.arch;
  const size_t width = arch == dump::Arch::X64 ? 17 : 8;
  if (arch == dump::Arch::X64)
    fmt::print(" #   Memory  Child-SP          RetAddr           Call Site\n");
  else
    fmt::print(" #   Memory  Child-SP RetAddr  Args to Child              Call Site\n");
  for (const dump::StackFrame &f : s.frames) {
    std::string size = f.index ? fmt::format("{:x}", s.frames[f.index - 1].frameSize) : "";
    std::string label = f.symbol && !f.symbol->label.empty() ? fmt::format("  [{}]", f.symbol->label) : "";
    fmt::print("{:02x} {:>8}  {} {} {}{}{}   ({})\n", f.index, size, vaText(arch, f.childSp),
               f.returnAddress ? vaText(arch, f.returnAddress) : std::string(width, ' '), kbArguments(f, memory),
               dump::callSiteName(f), label, dump::stepHowName(f.how));
    if (params)
      printParams((*params)[f.index]);
    if (!registers)
      continue;
    for (unsigned r = 0; r < f.regs.count(); ++r) {
      if (!dump::isNonvolatile(f.regs.arch, r))
        continue;
      const char *name = dump::gprName(f.regs.arch, r);
      const int digits = arch == dump::Arch::X64 ? 16 : 8;
      if (f.regs.isKnown(r))
        fmt::print("      {:>3}={:0{}x}  {}\n", name, f.regs.gpr[r], digits, originText(arch, f.origins[r]));
      else
        fmt::print("      {:>3}={}  unknown\n", name, std::string(size_t(digits), '?'));
    }
  }
  if (!s.stopped.empty())
    fmt::print("    (the walk stopped: {})\n", s.stopped);
}


json optionalValue(const std::optional<uint64_t> &v) { return v ? json(*v) : json(nullptr); }

json portMessageJson(const dump::PortMessage &m) {
  return {{"address", m.address}, {"DataLength", m.dataLength}, {"TotalLength", m.totalLength}, {"Type", m.type},
          {"type_name", m.typeName()}, {"DataInfoOffset", m.dataInfoOffset}, {"UniqueProcess", m.uniqueProcess},
          {"UniqueThread", m.uniqueThread}, {"MessageId", m.messageId}, {"CallbackId", m.callbackId()},
          {"ClientViewSize", m.clientViewSize}, {"data", m.data}};
}

// `!alpc /m`-style: the header's fields, then the payload's first bytes.
void printPortMessage(const dump::PortMessage &m, const std::string &indent) {
  fmt::print("{}PORT_MESSAGE at {:#x}: DataLength {:#x}  TotalLength {:#x}  Type {:#x} ({})  DataInfoOffset {:#x}\n",
             indent, m.address, m.dataLength, m.totalLength, m.type, m.typeName(), m.dataInfoOffset);
  fmt::print("{}  ClientId {:x}.{:x}  MessageId {:#x}  CallbackId {:#x}  ClientViewSize {:#x}\n", indent,
             m.uniqueProcess, m.uniqueThread, m.messageId, m.callbackId(), m.clientViewSize);
  if (m.data.empty())
    return;
  std::string hexBytes, ascii;
  for (uint8_t b : m.data) {
    hexBytes += fmt::format("{:02x} ", b);
    ascii += b >= 0x20 && b < 0x7F ? char(b) : '.';
  }
  fmt::print("{}  data: {} {}\n", indent, hexBytes, ascii);
}

json activityJson(const dump::ThreadActivity &a) {
  json handling = json::array();
  for (const dump::HandledMessage &h : a.handling)
    handling.push_back({{"frame", h.frame}, {"procedure", h.procedure}, {"kind", h.kind},
                        {"message", optionalValue(h.message)}, {"message_text", h.messageText}});
  json waiting = nullptr;
  if (a.waiting) {
    const dump::MessageWait &w = *a.waiting;
    waiting = {{"kind", "message"}, {"frame", w.frame}, {"api", w.api}, {"window", optionalValue(w.window)},
               {"message", optionalValue(w.message)}, {"message_text", w.messageText},
               {"wParam", optionalValue(w.wParam)}, {"lParam", optionalValue(w.lParam)}, {"sender", w.sender},
               {"receivers", w.receivers}, {"exactness", w.exactness}};
  }
  json port = nullptr, rpc = nullptr;
  if (a.portWait) {
    const dump::PortWait &p = *a.portWait;
    port = {{"kind", "port"}, {"frame", p.frame}, {"api", p.api}, {"port", optionalValue(p.port)},
            {"role", p.role.empty() ? json(nullptr) : json(p.role)},
            {"message_address", optionalValue(p.messageAddress)},
            {"port_message", p.message ? portMessageJson(*p.message) : json(nullptr)}};
  }
  if (a.rpcWait) {
    const dump::RpcWait &r = *a.rpcWait;
    json iface = nullptr;
    if (r.interface)
      iface = {{"address", r.interface->address}, {"uuid", r.interface->uuid},
               {"version", fmt::format("{}.{}", r.interface->versionMajor, r.interface->versionMinor)},
               {"transfer_syntax", r.interface->transferSyntax}};
    rpc = {{"kind", "rpc"}, {"frame", r.frame}, {"api", r.api}, {"stub_descriptor", optionalValue(r.stubDescriptor)},
           {"interface", std::move(iface)},
           {"procedure", r.procedure ? json(*r.procedure) : json(nullptr)}};
  }
  // The most specific wait: a message's receiver, an RPC call's interface, a port.
  if (waiting.is_null())
    waiting = !rpc.is_null() ? rpc : port;
  return {{"handling", std::move(handling)}, {"waiting_on", std::move(waiting)}, {"port_wait", std::move(port)},
          {"rpc_call", std::move(rpc)}};
}

std::string hexOr(const std::optional<uint64_t> &v) { return v ? fmt::format("{:#x}", *v) : "?"; }

void printActivity(const dump::ThreadActivity &a) {
  for (const dump::HandledMessage &h : a.handling)
    fmt::print("  handling {} in {} procedure {} (frame {:02x})\n",
               h.messageText.empty() ? "a message" : h.messageText, h.kind, h.procedure, h.frame);
  if (a.rpcWait) {
    const dump::RpcWait &r = *a.rpcWait;
    const std::string proc = r.procedure ? fmt::format("procedure {}", *r.procedure) : "procedure ?";
    if (r.interface)
      fmt::print("  waiting in {} (frame {:02x}): RPC interface {} v{}.{} ({}), {}\n", r.api, r.frame, r.interface->uuid,
                 r.interface->versionMajor, r.interface->versionMinor, r.interface->transferSyntax, proc);
    else
      fmt::print("  waiting in {} (frame {:02x}): RPC stub descriptor {}, {}\n", r.api, r.frame,
                 hexOr(r.stubDescriptor), proc);
  }
  if (a.portWait) {
    const dump::PortWait &p = *a.portWait;
    fmt::print("  waiting in {}(PortHandle={}) (frame {:02x})\n", p.api, hexOr(p.port), p.frame);
    if (p.message)
      printPortMessage(*p.message, "    " + p.role + " ");
    else if (p.messageAddress)
      fmt::print("    {} message at {:#x}: unreadable or not a PORT_MESSAGE\n", p.role, *p.messageAddress);
  }
  if (!a.waiting)
    return;
  const dump::MessageWait &w = *a.waiting;
  fmt::print("  waiting in {}(hWnd={}, Msg={}{}, wParam={}, lParam={}) sent from {}\n", w.api, hexOr(w.window),
             hexOr(w.message), w.messageText.empty() ? "" : fmt::format(" {}", w.messageText), hexOr(w.wParam),
             hexOr(w.lParam), w.sender);
  if (!w.receivers.empty())
    fmt::print("    received by {} ({})\n", fmt::join(w.receivers, ", "), w.exactness);
}

// One walk with what is derived from it.
struct WalkedStack {
  dump::ThreadStack stack;
  std::vector<std::vector<dump::RecoveredParam>> params;   // with -p
  dump::ThreadActivity activity;
};

WalkedStack walked(const dump::Minidump &d, const dump::ModuleSet &modules, const dump::MemoryReader &memory,
                   const api::ApiTable &apis, uint32_t tid, const dump::Registers &start, bool params) {
  WalkedStack w;
  w.stack = dump::walkStack(d, modules, memory, tid, start);
  if (params)
    w.params = dump::recoverParams(w.stack, memory, apis);
  w.activity = dump::describeActivity(w.stack, modules, w.params, apis, memory);
  return w;
}

json walkedJson(const WalkedStack &w, const dump::MemoryReader &memory, bool registers, bool params) {
  json frames = json::array();
  for (const dump::StackFrame &f : w.stack.frames)
    frames.push_back(frameJson(f, memory, registers, params ? &w.params[f.index] : nullptr));
  json a = activityJson(w.activity);
  return {{"frames", std::move(frames)},
          {"stopped", w.stack.stopped.empty() ? json(nullptr) : json(w.stack.stopped)},
          {"handling", std::move(a["handling"])}, {"waiting_on", std::move(a["waiting_on"])},
          {"port_wait", std::move(a["port_wait"])}, {"rpc_call", std::move(a["rpc_call"])}};
}

std::string dumpKind(const dump::Minidump &d) { return d.fullMemory() ? "full memory" : "normal"; }
} // namespace

Command stackCommand() {
  auto o = std::make_shared<StackOptions>();
  return {"stack", "Every thread's call stack in a minidump, walked with the modules' unwind data (WinDbg ~*knf)",
          Needs::Dump, {}, o,
          [o](CLI::App &cmd) {
            cmd.add_option("--modules", o->modules, "A directory of the dump's module files (repeatable; then next "
                                                   "to the dump)");
            auto *thread = cmd.add_option("--thread", o->thread, "Only this thread (id, decimal or 0x hex)");
            cmd.add_flag("--all", o->all, "Every thread (the default)")->excludes(thread);
            cmd.add_flag("-p,--params", o->params, "Each frame's register parameters, with where each was found");
            cmd.add_flag("-r,--registers", o->registers, "Each frame's nonvolatile registers, with where each was found");
            cmd.add_option("--port-message", o->portMessage,
                           "Only decode the LPC/ALPC PORT_MESSAGE at this address (hex, as WinDbg prints it; like "
                           "!alpc /m)");
          },
          [o](const Context &c) -> int {
    const dump::Minidump &d = *c.dump;
    std::optional<uint32_t> only;
    if (!o->thread.empty()) {
      try {
        only = uint32_t(std::stoul(o->thread, nullptr, 0));
      } catch (const std::exception &) {
        reportError("--thread: '{}' is not a thread id", o->thread);
        return kExitUsage;
      }
      if (!d.thread(*only)) {
        reportError("the dump has no thread {:#x}", *only);
        return kExitUsage;
      }
    }
    dump::ModuleSearch search;
    search.directories = o->modules;
    search.dumpPath = o->file;
    search.findPdb = !o->noPdb;
    search.api = c.api;
    dump::ModuleSet modules(d, search);
    dump::DumpMemory memory(d, modules);
    if (!o->portMessage.empty()) {
      const std::optional<uint64_t> va = parseHexAddress(o->portMessage);
      if (!va) {
        reportError("--port-message: '{}' is not an address", o->portMessage);
        return kExitUsage;
      }
      auto m = dump::readPortMessage(memory, *va, d.arch());
      if (o->json) {
        printJson({{"port_message", m ? portMessageJson(*m) : json(nullptr)}});
      } else if (m) {
        printPortMessage(*m, "");
      }
      if (!m)
        reportError("no PORT_MESSAGE at {:#x} (unreadable, or its lengths are not a message's)", *va);
      return m ? kExitOk : kExitFailure;
    }
    std::vector<const dump::ThreadRecord *> threads;
    for (const dump::ThreadRecord &t : d.threads())
      if (!only || t.id == *only)
        threads.push_back(&t);
    const api::ApiTable &apis = c.api ? *c.api : api::ApiTable::builtin();
    // Each thread's walk, and a WOW64 thread's 32-bit walk beside it.
    std::vector<WalkedStack> stacks;
    std::vector<std::optional<WalkedStack>> wow64;
    for (const dump::ThreadRecord *t : threads) {
      stacks.push_back(walked(d, modules, memory, apis, t->id, t->context, o->params));
      wow64.emplace_back();
      if (d.arch() == dump::Arch::X64)
        if (auto ctx = dump::wow64Context(memory, t->teb))
          wow64.back() = walked(d, modules, memory, apis, t->id, *ctx, o->params);
    }
    std::optional<dump::ThreadStack> exceptionStack;
    std::optional<std::string> type;
    if (d.exception() && (!only || d.exception()->threadId == *only)) {
      exceptionStack = dump::walkStack(d, modules, memory, d.exception()->threadId, d.exception()->context);
      type = dump::thrownType(*d.exception(), modules);
    }
    std::vector<std::string> warnings = d.warnings();
    warnings.insert(warnings.end(), modules.warnings().begin(), modules.warnings().end());
    c.phase("render");

    if (o->json) {
      json j;
      j["dump"] = {{"arch", image::architectureName(d.arch())}, {"kind", dumpKind(d)},
                   {"os", fmt::format("{}.{}.{}", d.osMajor(), d.osMinor(), d.osBuild())},
                   {"threads", d.threads().size()}, {"modules", d.modules().size()}};
      json ts = json::array();
      for (size_t i = 0; i < stacks.size(); ++i) {
        json t = walkedJson(stacks[i], memory, o->registers, o->params);
        t["tid"] = threads[i]->id;
        t["name"] = threads[i]->name;
        t["wow64"] = wow64[i] ? walkedJson(*wow64[i], memory, o->registers, o->params) : json(nullptr);
        ts.push_back(std::move(t));
      }
      j["threads"] = std::move(ts);
      if (d.exception()) {
        const dump::ExceptionRecord &e = *d.exception();
        const char *name = dump::exceptionCodeName(e.code);
        json ej = {{"tid", e.threadId}, {"code", e.code}, {"code_name", name ? json(name) : json(nullptr)},
                   {"address", e.address}, {"parameters", e.parameters},
                   {"thrown_type", type ? json(*type) : json(nullptr)}};
        if (exceptionStack) {
          json frames = json::array();
          for (const dump::StackFrame &f : exceptionStack->frames)
            frames.push_back(frameJson(f, memory, o->registers, nullptr));
          ej["frames"] = std::move(frames);
        }
        j["exception"] = std::move(ej);
      } else {
        j["exception"] = nullptr;
      }
      json ms = json::array();
      for (const auto &m : modules.modules())
        ms.push_back({{"name", m->name()}, {"path", m->record().path}, {"va", m->record().base},
                      {"size", m->record().size}, {"file", m->file().empty() ? json(nullptr) : json(m->file())},
                      {"problem", m->problem().empty() ? json(nullptr) : json(m->problem())}});
      j["modules"] = std::move(ms);
      j["warnings"] = warnings;
      printJson(j);
      return kExitOk;
    }
    for (const std::string &w : warnings)
      fmt::print(stderr, "switchboard: warning: {}\n", w);
    std::vector<std::string> missing;
    for (const auto &m : modules.modules())
      if (!m->analysis())
        missing.push_back(m->record().fileName());
    if (!missing.empty())
      fmt::print(stderr, "switchboard: warning: {} modules without an image (their frames are not unwound; use "
                         "--modules DIR): {}\n", missing.size(), fmt::join(missing, ", "));
    fmt::print("{}: {} {} dump, Windows {}.{}.{}, {} threads, {} modules ({} with image files)\n", o->file,
               image::architectureName(d.arch()), dumpKind(d), d.osMajor(), d.osMinor(), d.osBuild(),
               d.threads().size(), d.modules().size(),
               std::count_if(modules.modules().begin(), modules.modules().end(),
                             [](const auto &m) { return m->analysis() != nullptr; }));
    if (d.exception()) {
      const dump::ExceptionRecord &e = *d.exception();
      const char *name = dump::exceptionCodeName(e.code);
      fmt::print("exception: thread {:#x}: {} ({:#010x}) at {}{}\n", e.threadId, name ? name : "unknown code", e.code,
                 vaText(d.arch(), e.address), type ? fmt::format(", thrown type {}", *type) : "");
    }
    for (size_t i = 0; i < stacks.size(); ++i) {
      const dump::ThreadRecord &t = *threads[i];
      fmt::print("\nthread {:#x}{}\n", t.id, t.name.empty() ? "" : fmt::format(" \"{}\"", t.name));
      printActivity(stacks[i].activity);
      printFrames(stacks[i].stack, memory, o->registers, o->params ? &stacks[i].params : nullptr);
      if (wow64[i]) {
        fmt::print("  its 32-bit context (WOW64, like .effmach x86):\n");
        printActivity(wow64[i]->activity);
        printFrames(wow64[i]->stack, memory, o->registers, o->params ? &wow64[i]->params : nullptr);
      }
    }
    if (exceptionStack) {
      fmt::print("\nexception context (.ecxr) of thread {:#x}\n", exceptionStack->threadId);
      printFrames(*exceptionStack, memory, o->registers, nullptr);
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
