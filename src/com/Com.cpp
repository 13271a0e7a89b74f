#include "switchboard/com/Com.h"

#include "code/ZydisRegisters.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/calls/CallSites.h"
#include "switchboard/cxx/ObjectModel.h"
#include "values/Tracker.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

namespace sb::com {
namespace {

// The GUID bytes at rva, as text; nullopt when unreadable.
std::optional<std::string> guidAt(const image::Image &img, uint32_t rva) {
  std::array<uint8_t, 16> b{};
  if (!rva || !img.copyFromRva(rva, b.data(), b.size()))
    return std::nullopt;
  return guidText(b);
}

// An RFC 4122 GUID: version 1-5 in Data3's top nibble, variant bits 10.
bool looksLikeGuid(std::span<const uint8_t, 16> b) {
  const unsigned version = b[7] >> 4;
  return version >= 1 && version <= 5 && (b[8] & 0xC0) == 0x80;
}

std::vector<GuidRef> scanGuids(const image::Image &img, const Knowledge &k) {
  std::vector<GuidRef> out;
  for (const image::Section &s : img.mappedSections()) {
    if (s.executable || !s.readable)
      continue;
    const std::span<const uint8_t> bytes = img.bytesFromRva(s.rva);
    for (size_t at = 0; at + 16 <= bytes.size(); at += 4) {
      const std::span<const uint8_t, 16> b(bytes.data() + at, 16);
      // Most of the well-known GUIDs are Microsoft's {...-C000-000000000046}
      // or RFC 4122 ones: a cheap filter before the lookup.
      if (!looksLikeGuid(b) && !(b[8] == 0xC0 && b[15] == 0x46))
        continue;
      const std::string text = guidText(b);
      if (const Knowledge::Guid *g = k.guid(text))
        out.push_back({s.rva + uint32_t(at), text, g->name, g->kind});
    }
  }
  return out;
}

// Who activates what: the API's CLSID, IID and out-pointer arguments.
struct ActivationApi {
  const char *name;
  int clsid, iid, out;
};
constexpr ActivationApi kActivationApis[] = {
    {"CoCreateInstance", 0, 3, 4},
    {"CoGetClassObject", 0, 3, 4},
    {"CoCreateInstanceEx", 0, -1, -1},
};

uint32_t addressArg(const calls::CallSite &cs, int i) {
  if (i < 0 || size_t(i) >= cs.args.size())
    return 0;
  const values::Value &v = cs.args[size_t(i)].raw;
  return v.kind == values::Kind::Image && v.off >= 0 ? uint32_t(v.base + v.off) : 0;
}

void nameGuids(const Knowledge &k, Activation &x) {
  if (const Knowledge::Guid *g = x.clsid.empty() ? nullptr : k.guid(x.clsid))
    x.clsidName = g->name;
  if (const Knowledge::Guid *g = x.iid.empty() ? nullptr : k.guid(x.iid))
    x.iidName = g->name;
  if (const Knowledge::Interface *i = x.iid.empty() ? nullptr : k.interfaceByIid(x.iid))
    x.interfaceName = i->name;
}

// Where an interface pointer is kept: the out-pointer argument's address.
bool sameAddress(const values::Value &x, const values::Value &y) {
  return x.kind == y.kind && (x.kind == values::Kind::Stack || x.kind == values::Kind::Image) && x.base == y.base &&
         x.off == y.off;
}

// The calls through the interface pointers a function's activations return:
// `mov rcx, [p]; mov rax, [rcx]; call [rax+N]`, where p is the out-pointer
// the activation wrote. QueryInterface on such a pointer (slot 0, an IID and
// an out-pointer) is an activation of its own.
void methodCalls(const Analysis &a, const Knowledge &k, const code::Function &f, std::vector<Activation> &acts,
                 std::vector<values::Value> &outs, std::vector<MethodCall> &calls) {
  std::shared_ptr<const values::Tracker> tr = a.valueFacts(f);
  if (!tr)
    return;
  const unsigned ptr = a.image().pointerSize();
  struct Origin {
    values::Value slot;
    int level = 0;   // 1: the register holds [slot] (the interface pointer); 2: [[slot]] (its vtable)
  };
  std::array<Origin, 16> regs{};
  uint32_t expect = 0;
  tr->forEach([&](const values::Insn &in, const values::State &s) {
    if (in.rva != expect)
      regs = {};
    expect = in.next();
    const ZydisDecodedInstruction &I = *in.insn;
    const ZydisDecodedOperand *ops = in.ops;
    if (I.mnemonic == ZYDIS_MNEMONIC_CALL) {
      if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[0].mem.index == ZYDIS_REGISTER_NONE) {
        const int r = code::gprIndex(ops[0].mem.base);
        const int64_t disp = ops[0].mem.disp.has_displacement ? ops[0].mem.disp.value : 0;
        if (r >= 0 && regs[size_t(r)].level == 2 && disp >= 0 && disp % ptr == 0) {
          // The latest activation before the call that wrote this pointer.
          std::optional<size_t> which;
          for (size_t i = 0; i < acts.size(); ++i)
            if (acts[i].functionRva == f.rva && acts[i].siteRva < in.rva && sameAddress(outs[i], regs[size_t(r)].slot) &&
                (!which || acts[i].siteRva > acts[*which].siteRva))
              which = i;
          if (which) {
            MethodCall m;
            m.siteRva = in.rva;
            m.functionRva = f.rva;
            m.activation = *which;
            m.slot = unsigned(disp / ptr);
            const Knowledge::Interface *iface = k.interfaceNamed(acts[*which].interfaceName);
            const Knowledge::Interface *unknown = k.interfaceNamed("IUnknown");
            std::optional<std::string> name = iface ? k.method(*iface, m.slot) : std::nullopt;
            if (!name && unknown && m.slot < 3)
              name = k.method(*unknown, m.slot);
            m.method = name ? *name : fmt::format("Method{}", m.slot);
            const std::string owner = !acts[*which].interfaceName.empty() ? acts[*which].interfaceName
                                      : !acts[*which].iid.empty()          ? "{" + acts[*which].iid + "}"
                                                                           : "IUnknown";
            m.qualified = owner + "::" + m.method;
            // QueryInterface(riid, ppv): the pointer it returns.
            if (m.slot == 0) {
              values::Value riid = tr->argument(s, 1), out = tr->argument(s, 2);
              if (riid.kind == values::Kind::Image && (out.kind == values::Kind::Stack || out.kind == values::Kind::Image)) {
                Activation q;
                q.siteRva = in.rva;
                q.functionRva = f.rva;
                q.api = "QueryInterface";
                q.clsid = acts[*which].clsid;
                q.iid = guidAt(a.image(), uint32_t(riid.base + riid.off)).value_or("");
                nameGuids(k, q);
                acts.push_back(std::move(q));
                outs.push_back(out);
              }
            }
            calls.push_back(std::move(m));
          }
        }
      }
      regs = {};
      return;
    }
    if (I.mnemonic == ZYDIS_MNEMONIC_MOV && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
      const int dst = code::gprIndex(ops[0].reg.value);
      if (dst >= 0 && ops[0].size == ptr * 8) {
        if (ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY) {
          const int base = code::gprIndex(ops[1].mem.base);
          const bool plain = ops[1].mem.index == ZYDIS_REGISTER_NONE &&
                             (!ops[1].mem.disp.has_displacement || ops[1].mem.disp.value == 0);
          if (base >= 0 && plain && regs[size_t(base)].level == 1) {
            regs[size_t(dst)] = {regs[size_t(base)].slot, 2};
          } else {
            const values::Value at = tr->address(s, in, ops[1]);
            regs[size_t(dst)] = at.kind == values::Kind::Stack || at.kind == values::Kind::Image ? Origin{at, 1} : Origin{};
          }
          return;
        }
        if (ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
          const int src = code::gprIndex(ops[1].reg.value);
          regs[size_t(dst)] = src >= 0 ? regs[size_t(src)] : Origin{};
          return;
        }
      }
    }
    // Anything else that writes a register ends what it held.
    for (unsigned i = 0; i < I.operand_count; ++i)
      if (in.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && (in.ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
        if (int r = code::gprIndex(in.ops[i].reg.value); r >= 0)
          regs[size_t(r)] = {};
  });
}

// The functions a function calls directly (one level).
std::vector<uint32_t> directCallees(const Analysis &a, uint32_t fn) {
  std::vector<uint32_t> out;
  const code::Function *f = a.functionAt(fn);
  if (!f)
    return out;
  const std::span<const calls::IndexedSite> sites = a.callIndex().sites();
  for (const code::Range &chunk : f->chunks) {
    auto it = std::lower_bound(sites.begin(), sites.end(), chunk.rva,
                               [](const calls::IndexedSite &s, uint32_t r) { return s.siteRva < r; });
    for (; it != sites.end() && it->siteRva < chunk.end; ++it)
      if (it->kind == calls::SiteKind::Direct && it->calleeRva)
        out.push_back(it->calleeRva);
  }
  return out;
}

std::span<const uint32_t> refsOf(const Analysis &a, uint32_t fn) {
  const code::Function *f = a.functionAt(fn);
  if (!f)
    return {};
  return a.callIndex().dataRefsOf(size_t(f - a.functions().data()));
}

// DllGetClassObject -> the CLSIDs it compares with and the class factories
// it hands out -> each factory's CreateInstance -> the vftables it stores.
void findServer(const Analysis &a, const Knowledge &k, ComModel &m) {
  const auto &syms = a.symbols();
  for (const auto &[rva, names] : syms)
    if (names.first == "DllGetClassObject" || names.second == "DllGetClassObject")
      m.dllGetClassObjectRva = rva;
  if (!m.dllGetClassObjectRva)
    return;
  const cxx::ObjectModel &om = a.objectModel();
  std::map<uint32_t, size_t> vftableAt;
  for (size_t i = 0; i < om.vftables.size(); ++i)
    vftableAt[om.vftables[i].rva] = i;
  const image::Image &img = a.image();
  std::vector<uint32_t> scope{m.dllGetClassObjectRva};
  for (uint32_t c : directCallees(a, m.dllGetClassObjectRva))
    scope.push_back(c);
  std::vector<std::string> clsids;
  std::set<size_t> factories;
  for (uint32_t fn : scope)
    for (uint32_t ref : refsOf(a, fn)) {
      std::array<uint8_t, 16> b{};
      if (img.copyFromRva(ref, b.data(), b.size()) && looksLikeGuid(b)) {
        const std::string text = guidText(b);
        const Knowledge::Guid *g = k.guid(text);
        if ((!g || g->kind == GuidKind::Class) &&
            std::find(clsids.begin(), clsids.end(), text) == clsids.end())
          clsids.push_back(text);
      }
      // A vftable, or a global object whose first pointer is one.
      if (auto it = vftableAt.find(ref); it != vftableAt.end())
        factories.insert(it->second);
      else if (auto v = img.readPointer(ref))
        if (auto r = img.vaToRva(*v))
          if (auto jt = vftableAt.find(*r); jt != vftableAt.end())
            factories.insert(jt->second);
    }
  for (size_t fi : factories) {
    const cxx::Vftable &fv = om.vftables[fi];
    // IClassFactory: QueryInterface, AddRef, Release, CreateInstance, LockServer.
    if (fv.slots.size() < 5)
      continue;
    ServerClass sc;
    sc.clsids = clsids;
    sc.factoryVftableRva = fv.rva;
    sc.createInstanceRva = fv.slots[3].functionRva ? fv.slots[3].functionRva : fv.slots[3].targetRva;
    std::vector<uint32_t> inner{sc.createInstanceRva};
    for (uint32_t c : directCallees(a, sc.createInstanceRva))
      inner.push_back(c);
    for (uint32_t fn : inner)
      for (uint32_t ref : refsOf(a, fn))
        if (auto it = vftableAt.find(ref); it != vftableAt.end() && it->second != fi &&
                                            std::find(sc.objectVftables.begin(), sc.objectVftables.end(), ref) ==
                                                sc.objectVftables.end()) {
          sc.objectVftables.push_back(ref);
          const int ci = om.vftables[it->second].classIndex;
          const std::string cls = ci >= 0 ? om.classes[size_t(ci)].name : std::string();
          if (!cls.empty() && std::find(sc.objectClasses.begin(), sc.objectClasses.end(), cls) == sc.objectClasses.end())
            sc.objectClasses.push_back(cls);
        }
    m.serverClasses.push_back(std::move(sc));
  }
}

} // namespace

ComModel findCom(const Analysis &a) {
  ComModel m;
  const Knowledge &k = Knowledge::builtin();
  const image::Image &img = a.image();
  m.guids = scanGuids(img, k);
  if (!img.codeAnalysisSupported())
    return m;
  const api::ApiTable &table = a.apiTable();
  std::vector<calls::Target> targets;
  std::vector<const ActivationApi *> apis;
  for (const ActivationApi &api : kActivationApis)
    if (auto t = calls::resolveTarget(a, table, api.name, &a.procAddressGlobals())) {
      targets.push_back(std::move(*t));
      apis.push_back(&api);
    }
  std::vector<values::Value> outs;   // by activation: where it writes the interface pointer
  if (!targets.empty()) {
    std::vector<const calls::Target *> ptrs;
    for (const calls::Target &t : targets)
      ptrs.push_back(&t);
    calls::FindOptions fo;
    fo.threads = a.threads();
    const auto sites = calls::findCallSitesMany(a, table, ptrs, fo);
    for (size_t t = 0; t < targets.size(); ++t)
      for (const calls::CallSite &cs : sites[t]) {
        Activation x;
        x.siteRva = cs.siteRva;
        x.functionRva = cs.functionRva;
        x.api = apis[t]->name;
        x.clsid = guidAt(img, addressArg(cs, apis[t]->clsid)).value_or("");
        x.iid = guidAt(img, addressArg(cs, apis[t]->iid)).value_or("");
        nameGuids(k, x);
        m.activations.push_back(std::move(x));
        const int o = apis[t]->out;
        outs.push_back(o >= 0 && size_t(o) < cs.args.size() ? cs.args[size_t(o)].raw : values::Value{});
      }
  }
  std::set<uint32_t> functions;
  for (const Activation &x : m.activations)
    functions.insert(x.functionRva);
  for (uint32_t fn : functions)
    if (const code::Function *f = a.functionAt(fn))
      methodCalls(a, k, *f, m.activations, outs, m.calls);
  std::sort(m.calls.begin(), m.calls.end(), [](const MethodCall &x, const MethodCall &y) { return x.siteRva < y.siteRva; });
  // Activations stay in discovery order (calls index them); by site within each kind.
  findServer(a, k, m);
  return m;
}

} // namespace sb::com
