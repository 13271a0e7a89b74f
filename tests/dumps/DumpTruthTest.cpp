// Stack walks of the dumps dump_app.exe writes of itself under Wine (the
// dumps_make test), checked against the truth it writes next to them: every
// thread's chain of our functions, the nonvolatile registers it put in known
// frames, the thrown C++ type; a module file that does not match the dump is
// refused; damaged dumps give warnings, never a crash or a hang.
#include "TestSupport.h"

#include "switchboard/dump/Minidump.h"
#include "switchboard/api/ApiTable.h"
#include "switchboard/dump/Activity.h"
#include "switchboard/dump/Modules.h"
#include "switchboard/dump/Params.h"
#include "switchboard/dump/StackWalk.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace sb {
namespace {
namespace fs = std::filesystem;
using namespace sb::test;
using json = nlohmann::json;

// The architecture under test (the suite's parameter), set by SetUp.
std::string g_arch = "x64";

// Wine's PE modules of that architecture: what the dumps' processes loaded.
std::string wineDlls() {
  return g_arch == "x64" ? "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows" : "/usr/lib/i386-linux-gnu/wine/i386-windows";
}
dump::Arch dumpArch() { return g_arch == "x64" ? dump::Arch::X64 : dump::Arch::X86; }

std::string dumpDir() { return std::string(SB_DUMP_DIR) + "/" + g_arch; }

class DumpTruth : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override { g_arch = GetParam(); }
};

uint64_t hexValue(const json &v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

struct Walked {
  dump::Minidump dump;
  std::unique_ptr<dump::ModuleSet> modules;
  std::vector<dump::ThreadStack> stacks;
};

std::unique_ptr<Walked> walk(const std::string &file, std::vector<std::string> dirs = {wineDlls()}, bool pdbs = true) {
  auto d = dump::Minidump::load(file);
  if (!d)
    return nullptr;
  auto w = std::unique_ptr<Walked>(new Walked{d.take(), nullptr, {}});
  dump::ModuleSearch search;
  search.directories = std::move(dirs);
  search.dumpPath = file;
  search.findPdb = pdbs;
  w->modules = std::make_unique<dump::ModuleSet>(w->dump, search);
  dump::DumpMemory memory(w->dump, *w->modules);
  for (const dump::ThreadRecord &t : w->dump.threads())
    w->stacks.push_back(dump::walkStack(w->dump, *w->modules, memory, t.id, t.context));
  return w;
}

json truth() {
  std::ifstream in(dumpDir() + "/dump_app.truth.json");
  return json::parse(in);
}

#define NEED_DUMPS()                                                                                       \
  do {                                                                                                     \
    if (!fs::exists(dumpDir() + "/dump_app.truth.json") || !fs::is_directory(wineDlls()))                  \
      GTEST_SKIP() << "no dumps in " << dumpDir() << " (Wine for " << g_arch << " missing: dumps_make skipped it)"; \
  } while (0)

const dump::ThreadStack *stackOf(const Walked &w, uint32_t tid) {
  for (const dump::ThreadStack &s : w.stacks)
    if (s.threadId == tid)
      return &s;
  return nullptr;
}

// Our module's frames, innermost first.
std::vector<const dump::StackFrame *> ownFrames(const dump::ThreadStack &s) {
  std::vector<const dump::StackFrame *> out;
  for (const dump::StackFrame &f : s.frames)
    if (f.module && f.module->name() == "dump_app")
      out.push_back(&f);
  return out;
}

void checkFrames(const std::string &file) {
  auto w = walk(file);
  ASSERT_TRUE(w) << file;
  size_t known = 0, right = 0;
  const json all = truth();
  for (const json &t : all["threads"]) {
    const dump::ThreadStack *s = stackOf(*w, t["tid"].get<uint32_t>());
    ASSERT_TRUE(s) << "thread " << t["tid"];
    std::vector<const dump::StackFrame *> own = ownFrames(*s);
    std::vector<std::string> got;
    for (const dump::StackFrame *f : own)
      got.push_back(f->symbol ? f->symbol->function : "?");
    std::vector<std::string> want;
    for (const json &f : t["frames"])
      want.push_back(f["function"]);
    // Our frames end at the thread's start routine's caller: crt0 or the
    // system's thread start; the truth lists them all.
    EXPECT_EQ(got, want) << file << " thread " << t["role"];
    known += want.size();
    for (size_t i = 0; i < want.size() && i < got.size(); ++i)
      right += got[i] == want[i];
    EXPECT_TRUE(s->stopped.empty()) << t["role"] << ": " << s->stopped;
  }
  std::printf("[ frames ] %s: %zu of %zu known frames right\n", fs::path(file).filename().c_str(), right, known);
  EXPECT_EQ(right, known);
}

TEST_P(DumpTruth, EveryThreadsFramesNormalDump) {
  NEED_DUMPS();
  checkFrames(dumpDir() + "/dump_app.normal.dmp");
}

TEST_P(DumpTruth, EveryThreadsFramesFullDump) {
  NEED_DUMPS();
  checkFrames(dumpDir() + "/dump_app.full.dmp");
}

// Every nonvolatile register we report at a frame the truth names has the
// value the fixture put there, and every one it names is recovered.
TEST_P(DumpTruth, NonvolatilesMatchTheFixture) {
  NEED_DUMPS();
  auto w = walk(dumpDir() + "/dump_app.normal.dmp");
  ASSERT_TRUE(w);
  size_t stated = 0, recovered = 0, wrong = 0;
  const json all = truth();
  for (const json &t : all["threads"]) {
    const dump::ThreadStack *s = stackOf(*w, t["tid"].get<uint32_t>());
    ASSERT_TRUE(s);
    for (const dump::StackFrame *f : ownFrames(*s)) {
      for (const json &tf : t["frames"]) {
        if (!f->symbol || tf["function"] != f->symbol->function || !tf.contains("registers"))
          continue;
        for (auto &[reg, value] : tf["registers"].items()) {
          if (reg.rfind("xmm", 0) == 0)
            continue;   // integer registers only
          unsigned r = 0;
          while (r < 16 && reg != dump::gprName(dumpArch(), r))
            ++r;
          ASSERT_LT(r, 16u) << reg;
          ++stated;
          if (!f->regs.isKnown(r))
            continue;
          ++recovered;
          if (f->regs.gpr[r] != hexValue(value)) {
            ++wrong;
            ADD_FAILURE() << tf["function"] << " " << reg << " = " << std::hex << f->regs.gpr[r] << ", truth "
                          << value;
          }
        }
      }
    }
  }
  std::printf("[ nonvolatiles ] %zu stated, %zu recovered, %zu wrong\n", stated, recovered, wrong);
  EXPECT_GT(stated, g_arch == "x64" ? 16u : 5u);
  EXPECT_EQ(recovered, stated);
  EXPECT_EQ(wrong, 0u);
}

// The register parameters the fixture passed to each of its functions:
// every value recovered is right (precision 1.0: unknown is allowed, wrong
// is not), and at least 90% of them are recovered.
TEST_P(DumpTruth, RegisterParametersMatchTheFixture) {
  NEED_DUMPS();
  auto w = walk(dumpDir() + "/dump_app.normal.dmp");
  ASSERT_TRUE(w);
  dump::DumpMemory memory(w->dump, *w->modules);
  size_t stated = 0, recovered = 0, wrong = 0;
  const json all = truth();
  for (const json &t : all["threads"]) {
    const dump::ThreadStack *s = stackOf(*w, t["tid"].get<uint32_t>());
    ASSERT_TRUE(s);
    auto params = dump::recoverParams(*s, memory, api::ApiTable::builtin());
    for (const dump::StackFrame *f : ownFrames(*s)) {
      for (const json &tf : t["frames"]) {
        if (!f->symbol || tf["function"] != f->symbol->function)
          continue;
        const std::vector<json> want = tf["params"];
        // x64: the four register parameters; x86: the stack arguments.
        const size_t known = std::min(want.size(), params[f->index].size());
        for (size_t i = 0; i < known; ++i) {
          ++stated;
          const dump::RecoveredParam &p = params[f->index][i];
          if (!p.value)
            continue;
          ++recovered;
          if (*p.value != hexValue(want[i])) {
            ++wrong;
            ADD_FAILURE() << tf["function"] << " P" << i + 1 << " = " << std::hex << *p.value << " ("
                          << p.sources.front().from << "), truth " << want[i];
          }
        }
      }
    }
  }
  std::printf("[ params ] %zu stated, %zu recovered (%.1f%%), %zu wrong\n", stated, recovered,
              100.0 * double(recovered) / double(stated ? stated : 1), wrong);
  EXPECT_GT(stated, 20u);
  EXPECT_EQ(wrong, 0u);
  EXPECT_GE(double(recovered), 0.9 * double(stated));
}

// The sender thread handles WM_USER+5 in its window procedure and is blocked
// sending WM_USER+7 to window B, whose procedure the send site reaches.
TEST_P(DumpTruth, MessageAwareFrames) {
  NEED_DUMPS();
  auto w = walk(dumpDir() + "/dump_app.normal.dmp");
  ASSERT_TRUE(w);
  dump::DumpMemory memory(w->dump, *w->modules);
  const json all = truth();
  for (const json &t : all["threads"]) {
    if (t["role"] != "sender")
      continue;
    const dump::ThreadStack *s = stackOf(*w, t["tid"].get<uint32_t>());
    ASSERT_TRUE(s);
    auto params = dump::recoverParams(*s, memory, api::ApiTable::builtin());
    dump::ThreadActivity a = dump::describeActivity(*s, *w->modules, params, api::ApiTable::builtin(), memory);
    ASSERT_EQ(a.handling.size(), 1u);
    EXPECT_EQ(a.handling[0].procedure, "dump_app!sender_wndproc");
    ASSERT_TRUE(a.handling[0].message);
    EXPECT_EQ(*a.handling[0].message, hexValue(t["message"]["msg"]));
    ASSERT_TRUE(a.waiting);
    EXPECT_EQ(a.waiting->api, "SendMessageW");
    ASSERT_TRUE(a.waiting->message);
    EXPECT_EQ(*a.waiting->message, hexValue(t["sending"]["msg"]));
    EXPECT_EQ(a.waiting->wParam, hexValue(t["sending"]["wParam"]));
    EXPECT_EQ(a.waiting->lParam, hexValue(t["sending"]["lParam"]));
    EXPECT_EQ(a.waiting->receivers, std::vector<std::string>{"dump_app!window_b_wndproc"});
    return;
  }
  FAIL() << "no sender thread in the truth";
}

// The PORT_MESSAGE the port thread filled (Wine cannot wait in LPC/ALPC:
// the fixture keeps the buffer a waiting thread would hold), decoded from
// the dump at the address it holds, as `stack --port-message` does.
TEST_P(DumpTruth, PortMessageMatchesTheFixture) {
  NEED_DUMPS();
  const json all = truth();
  for (const json &t : all["threads"]) {
    if (t["role"] != "port")
      continue;
    const json &want = t["port_message"];
    std::string out;
    ASSERT_EQ(runCommand(cliPath() + " stack --json --port-message " + want["address"].get<std::string>() +
                             " --modules " + wineDlls() + " " + dumpDir() + "/dump_app.normal.dmp",
                         &out),
              0);
    const json got = json::parse(out)["port_message"];
    ASSERT_TRUE(got.is_object());
    for (const char *field : {"DataLength", "TotalLength", "Type", "DataInfoOffset", "UniqueProcess", "UniqueThread",
                              "MessageId", "ClientViewSize"})
      EXPECT_EQ(got[field].get<uint64_t>(), hexValue(want[field])) << field;
    const std::vector<uint8_t> data = got["data"];
    EXPECT_EQ(std::string(data.begin(), data.end()), want["payload"].get<std::string>());
    return;
  }
  FAIL() << "no port thread in the truth";
}

// dump_rpc.dll's client thread is blocked in NdrClientCall2 calling
// procedure 1 of its interface: the wait names the interface (from the stub
// descriptor the caller passed) and the procedure (from the format string).
TEST_P(DumpTruth, RpcClientCallNamesInterfaceAndProcedure) {
  NEED_DUMPS();
  const json all = truth();
  if (!all.contains("rpc") || !all["rpc"]["blocked"].get<bool>())
    GTEST_SKIP() << "dump_app ran without its RPC thread (dump_rpc.dll needs widl; rpc: "
                 << (all.contains("rpc") ? all["rpc"].dump() : "none") << ")";
  auto w = walk(dumpDir() + "/dump_app.normal.dmp");
  ASSERT_TRUE(w);
  dump::DumpMemory memory(w->dump, *w->modules);
  for (const json &t : all["threads"]) {
    if (t["role"] != "rpc")
      continue;
    const json &want = t["rpc_call"];
    const dump::ThreadStack *s = stackOf(*w, t["tid"].get<uint32_t>());
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->stopped.empty()) << s->stopped;
    auto params = dump::recoverParams(*s, memory, api::ApiTable::builtin());
    dump::ThreadActivity a = dump::describeActivity(*s, *w->modules, params, api::ApiTable::builtin(), memory);
    ASSERT_TRUE(a.rpcWait);
    // Wine's i386 rpcrt4 exports NdrClientCall2 and NdrClientCall at one address.
    EXPECT_EQ(a.rpcWait->api.rfind("NdrClientCall", 0), 0u) << a.rpcWait->api;
    EXPECT_EQ(a.rpcWait->stubDescriptor, hexValue(want["stub_descriptor"]));
    ASSERT_TRUE(a.rpcWait->interface);
    EXPECT_EQ(a.rpcWait->interface->address, hexValue(want["client_interface"]));
    EXPECT_EQ(a.rpcWait->interface->uuid, want["uuid"].get<std::string>());
    EXPECT_EQ(fmt::format("{}.{}", a.rpcWait->interface->versionMajor, a.rpcWait->interface->versionMinor),
              want["version"].get<std::string>());
    EXPECT_EQ(a.rpcWait->interface->transferSyntax, "NDR");
    EXPECT_EQ(a.rpcWait->procedure, want["procedure"].get<unsigned>());
    return;
  }
  FAIL() << "no rpc thread in the truth";
}

TEST_P(DumpTruth, CxxExceptionTypeAndContext) {
  NEED_DUMPS();
  std::string out;
  ASSERT_EQ(runCommand(cliPath() + " stack --json --modules " + wineDlls() + " " + dumpDir() + "/dump_app.normal.dmp",
                       &out), 0);
  json j = json::parse(out);
  const json all = truth();
  const json &want = all["exception"];
  ASSERT_TRUE(j["exception"].is_object());
  EXPECT_EQ(j["exception"]["tid"], want["tid"]);
  EXPECT_EQ(j["exception"]["code"].get<uint64_t>(), hexValue(want["code"]));
  EXPECT_EQ(j["exception"]["code_name"], "C++ exception");
  EXPECT_EQ(j["exception"]["thrown_type"], want["thrown_type"]);
  bool thrower = false;
  for (const json &f : j["exception"]["frames"])
    thrower |= f["function"] == "throw_dump_error";
  EXPECT_TRUE(thrower);
}

// A file of the right name but another build is refused, with a warning.
TEST_P(DumpTruth, MismatchedModuleFileIsRefused) {
  NEED_DUMPS();
  const fs::path dir = fs::temp_directory_path() / ("sb-mismatch-" + g_arch);
  fs::create_directories(dir);
  fs::copy_file(fs::path(wineDlls()) / "kernel32.dll", dir / "NTDLL.DLL", fs::copy_options::overwrite_existing);
  auto w = walk(dumpDir() + "/dump_app.normal.dmp", {dir.string()});
  ASSERT_TRUE(w);
  bool warned = false;
  for (const std::string &m : w->modules->warnings())
    warned |= m.find("module ntdll.dll: refused") != std::string::npos;
  EXPECT_TRUE(warned);
  for (const auto &m : w->modules->modules())
    if (m->name() == "ntdll") {
      EXPECT_EQ(m->analysis(), nullptr) << m->problem();
    }
  fs::remove_all(dir);
}

// A full dump alone (no module files anywhere): the images are rebuilt from
// its memory, and every thread walks to the same return addresses as with
// the files.
TEST_P(DumpTruth, FullDumpWalksFromItsOwnMemory) {
  NEED_DUMPS();
  const fs::path dir = fs::temp_directory_path() / ("sb-lone-dump-" + g_arch);
  fs::create_directories(dir);
  const fs::path lone = dir / "dump_app.full.dmp";
  fs::remove(lone);
  fs::create_symlink(fs::absolute(dumpDir() + "/dump_app.full.dmp"), lone);
  auto alone = walk(lone.string(), {});
  auto withFiles = walk(dumpDir() + "/dump_app.full.dmp");
  ASSERT_TRUE(alone && withFiles);
  for (const auto &m : alone->modules->modules())
    EXPECT_TRUE(m->fromMemory()) << m->name() << ": " << m->problem();
  // With the PDB beside it, the image rebuilt from memory takes its names.
  fs::create_symlink(fs::absolute(dumpDir() + "/dump_app.pdb"), dir / "dump_app.pdb");
  auto named = walk(lone.string(), {});
  ASSERT_TRUE(named);
  const json all = truth();
  size_t right = 0, known = 0;
  for (const json &t : all["threads"]) {
    const dump::ThreadStack *st = stackOf(*named, t["tid"].get<uint32_t>());
    ASSERT_TRUE(st);
    std::vector<std::string> got, want;
    for (const dump::StackFrame *f : ownFrames(*st))
      got.push_back(f->symbol ? f->symbol->function : "?");
    for (const json &f : t["frames"])
      want.push_back(f["function"]);
    EXPECT_EQ(got, want) << "thread " << t["role"];
    known += want.size();
    right += got == want ? want.size() : 0;
  }
  EXPECT_EQ(right, known);
  ASSERT_EQ(alone->stacks.size(), withFiles->stacks.size());
  for (size_t i = 0; i < alone->stacks.size(); ++i) {
    std::vector<uint64_t> a, b;
    for (const dump::StackFrame &f : alone->stacks[i].frames)
      a.push_back(f.returnAddress);
    for (const dump::StackFrame &f : withFiles->stacks[i].frames)
      b.push_back(f.returnAddress);
    EXPECT_EQ(a, b) << "thread " << alone->stacks[i].threadId;
  }
  fs::remove_all(dir);
}

// x86: dump_app's PDB has frame data (FPO programs, one record per prolog
// step); with it the walk runs them, without it traces the prologs, and
// both find the same callers.
TEST(DumpTruthX86, FrameDataAndPrologTracingAgree) {
  g_arch = "x86";
  NEED_DUMPS();
  auto withPdb = walk(dumpDir() + "/dump_app.normal.dmp");
  auto without = walk(dumpDir() + "/dump_app.normal.dmp", {wineDlls()}, false);
  ASSERT_TRUE(withPdb && without);
  ASSERT_EQ(withPdb->stacks.size(), without->stacks.size());
  size_t byFrameData = 0, frames = 0;
  for (size_t i = 0; i < withPdb->stacks.size(); ++i) {
    std::vector<std::pair<uint64_t, uint64_t>> a, b;
    for (const dump::StackFrame &f : withPdb->stacks[i].frames) {
      a.emplace_back(f.returnAddress, f.childSp);
      byFrameData += f.how == dump::StepHow::FrameData;
    }
    for (const dump::StackFrame &f : without->stacks[i].frames)
      b.emplace_back(f.returnAddress, f.childSp);
    EXPECT_EQ(a, b) << "thread " << withPdb->stacks[i].threadId;
    frames += a.size();
  }
  std::printf("[ frame data ] %zu of %zu frames stepped by the PDB's frame data\n", byFrameData, frames);
  EXPECT_GT(byFrameData, 15u);
}

// Truncated and bit-flipped dumps: every walk ends, with what could be read.
TEST_P(DumpTruth, DamagedDumpsNeverCrash) {
  NEED_DUMPS();
  const std::vector<uint8_t> bytes = readFile(dumpDir() + "/dump_app.normal.dmp");
  ASSERT_GT(bytes.size(), 4096u);
  dump::ModuleSearch search;
  search.directories = {wineDlls()};
  std::vector<std::vector<uint8_t>> variants;
  for (size_t cut : {size_t(0), size_t(16), size_t(31), size_t(200), size_t(1000), bytes.size() / 3, bytes.size() / 2,
                     bytes.size() - 1})
    variants.emplace_back(bytes.begin(), bytes.begin() + std::min(cut, bytes.size()));
  uint32_t seed = 12345;
  for (int v = 0; v < 24; ++v) {
    std::vector<uint8_t> b = bytes;
    for (int k = 0; k < 16; ++k) {
      seed = seed * 1103515245 + 12345;
      // The header, directory and small streams live in the first pages.
      b[seed % std::min<size_t>(b.size(), 0x20000)] ^= uint8_t(1u << (seed >> 24 & 7));
    }
    variants.push_back(std::move(b));
  }
  for (std::vector<uint8_t> &b : variants) {
    auto start = std::chrono::steady_clock::now();
    auto d = dump::Minidump::parse(std::move(b));
    if (!d)
      continue;
    dump::ModuleSet modules(*d, search);
    dump::DumpMemory memory(*d, modules);
    for (const dump::ThreadRecord &t : d->threads()) {
      dump::ThreadStack s = dump::walkStack(*d, modules, memory, t.id, t.context);
      EXPECT_LE(s.frames.size(), 256u);
    }
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Arch, DumpTruth, ::testing::Values("x64", "x86"),
                         [](const ::testing::TestParamInfo<std::string> &i) { return i.param; });

} // namespace
} // namespace sb
