#include "rpc/Sites.h"

#include "rpc/Interfaces.h"
#include "rpc/Layout.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallSites.h"

#include <algorithm>

namespace sb::rpc {
namespace {

// The registration APIs: where their flags, max calls and security callback are.
struct RegisterApi {
  const char *name;
  int flags, maxCalls, callback;   // argument indices (-1: none)
};
constexpr RegisterApi kRegisterApis[] = {
    {"RpcServerRegisterIf", -1, -1, -1},
    {"RpcServerRegisterIf2", 3, 4, 6},
    {"RpcServerRegisterIf3", 3, 4, 6},
    {"RpcServerRegisterIfEx", 3, 4, 5},
};

// The endpoint APIs: protocol sequence, network address, endpoint (indices).
struct EndpointApi {
  const char *name;
  Role role;
  int protseq, address, endpoint;
};
constexpr EndpointApi kEndpointApis[] = {
    {"RpcServerUseProtseqEpA", Role::Server, 0, -1, 2},    {"RpcServerUseProtseqEpW", Role::Server, 0, -1, 2},
    {"RpcServerUseProtseqEpExA", Role::Server, 0, -1, 2},  {"RpcServerUseProtseqEpExW", Role::Server, 0, -1, 2},
    {"RpcServerUseProtseqA", Role::Server, 0, -1, -1},     {"RpcServerUseProtseqW", Role::Server, 0, -1, -1},
    {"RpcStringBindingComposeA", Role::Client, 1, 2, 3},   {"RpcStringBindingComposeW", Role::Client, 1, 2, 3},
};

const calls::Argument *arg(const calls::CallSite &cs, int i) {
  return i >= 0 && size_t(i) < cs.args.size() ? &cs.args[size_t(i)] : nullptr;
}

// An image address an argument holds (the address itself, not what is there).
uint32_t addressArg(const calls::CallSite &cs, int i) {
  const calls::Argument *x = arg(cs, i);
  return x && x->raw.kind == values::Kind::Image && x->raw.off >= 0 ? uint32_t(x->raw.base + x->raw.off) : 0;
}

std::optional<uint64_t> constantArg(const calls::CallSite &cs, int i) {
  const calls::Argument *x = arg(cs, i);
  if (x && x->raw.kind == values::Kind::Const)
    return uint64_t(x->raw.off);
  return std::nullopt;
}

std::string stringArg(const calls::CallSite &cs, int i) {
  const calls::Argument *x = arg(cs, i);
  return x && x->str ? *x->str : std::string();
}

// RpcServerRegisterIf's IfSpec: the interface's address, or a load of the
// `<name>_v1_0_s_ifspec` global that holds it.
uint32_t ifSpecArg(const Analysis &a, const calls::CallSite &cs) {
  if (uint32_t rva = addressArg(cs, 0))
    return rva;
  const calls::Argument *x = arg(cs, 0);
  if (x && x->raw.kind == values::Kind::Load && x->raw.addrKind == values::Kind::Image && x->raw.off == 0)
    return pointerRva(a.image(), uint32_t(x->raw.base + x->raw.addrOff));
  return 0;
}

} // namespace

Sites findSites(const Analysis &a) {
  Sites out;
  const api::ApiTable &table = a.apiTable();
  const std::unordered_map<uint32_t, std::string> &procGlobals = a.procAddressGlobals();
  enum class What : uint8_t { Call, Register, Endpoint };
  struct Wanted {
    What what;
    size_t index;   // into the table of its kind
    calls::Target target;
  };
  std::vector<Wanted> wanted;
  auto want = [&](What what, size_t index, const char *name) {
    if (auto t = calls::resolveTarget(a, table, name, &procGlobals))
      wanted.push_back({what, index, std::move(*t)});
  };
  for (size_t i = 0; i < std::size(layout::kClientCallApis); ++i)
    want(What::Call, i, layout::kClientCallApis[i].name);
  for (size_t i = 0; i < std::size(kRegisterApis); ++i)
    want(What::Register, i, kRegisterApis[i].name);
  for (size_t i = 0; i < std::size(kEndpointApis); ++i)
    want(What::Endpoint, i, kEndpointApis[i].name);
  if (wanted.empty())
    return out;
  std::vector<const calls::Target *> ptrs;
  for (const Wanted &w : wanted)
    ptrs.push_back(&w.target);
  calls::FindOptions fo;
  fo.threads = a.threads();
  // NdrClientInitializeNew's four arguments, the varargs client calls' two or three.
  fo.maxStackArgs = 8;
  const std::vector<std::vector<calls::CallSite>> sites = calls::findCallSitesMany(a, table, ptrs, fo);
  for (size_t w = 0; w < wanted.size(); ++w) {
    for (const calls::CallSite &cs : sites[w]) {
      switch (wanted[w].what) {
      case What::Call: {
        const layout::ClientCallApi &api = layout::kClientCallApis[wanted[w].index];
        Sites::Call c;
        c.call.siteRva = cs.siteRva;
        c.call.functionRva = cs.functionRva;
        c.call.api = api.name;
        if (api.form == layout::CallForm::DescriptorAndFormat) {
          c.stubDesc = addressArg(cs, 0);
          c.formatRva = addressArg(cs, 1);
          uint8_t h[2] = {};
          uint16_t n = 0;
          if (c.formatRva && a.image().copyFromRva(c.formatRva, h, 2) &&
              a.image().copyFromRva(c.formatRva + uint32_t(layout::procNumberOffset(h[1])), &n, 2))
            c.call.opnum = n;
        } else if (api.form == layout::CallForm::ProxyInfoAndNumber) {
          if (uint32_t proxy = addressArg(cs, 0))
            c.stubDesc = pointerRva(a.image(), proxy);
          if (auto n = constantArg(cs, 1))
            c.call.opnum = unsigned(*n & 0xFFFF);
        } else {
          c.stubDesc = addressArg(cs, 2);
          if (auto n = constantArg(cs, 3))
            c.call.opnum = unsigned(*n & 0xFFFF);
        }
        // A tail jump into the runtime with nothing known of its arguments
        // is no stub's call (a shared epilogue, code the discovery misread).
        if (cs.tail && !c.stubDesc && !c.call.opnum)
          break;
        out.calls.push_back(std::move(c));
        break;
      }
      case What::Register: {
        const RegisterApi &api = kRegisterApis[wanted[w].index];
        Sites::Register r;
        r.registration.siteRva = cs.siteRva;
        r.registration.api = api.name;
        r.registration.flags = api.flags >= 0 ? constantArg(cs, api.flags) : std::nullopt;
        r.registration.maxCalls = api.maxCalls >= 0 ? constantArg(cs, api.maxCalls) : std::nullopt;
        if (uint32_t cb = api.callback >= 0 ? addressArg(cs, api.callback) : 0; cb && a.image().isExecutableRva(cb))
          r.registration.securityCallbackRva = cb;
        r.interfaceRva = ifSpecArg(a, cs);
        out.registrations.push_back(std::move(r));
        break;
      }
      case What::Endpoint: {
        const EndpointApi &api = kEndpointApis[wanted[w].index];
        Endpoint e;
        e.siteRva = cs.siteRva;
        e.api = api.name;
        e.role = api.role;
        e.protseq = stringArg(cs, api.protseq);
        e.networkAddress = stringArg(cs, api.address);
        e.endpoint = stringArg(cs, api.endpoint);
        out.endpoints.push_back(std::move(e));
        break;
      }
      }
    }
  }
  std::sort(out.calls.begin(), out.calls.end(),
            [](const auto &x, const auto &y) { return x.call.siteRva < y.call.siteRva; });
  std::sort(out.endpoints.begin(), out.endpoints.end(),
            [](const auto &x, const auto &y) { return x.siteRva < y.siteRva; });
  return out;
}

} // namespace sb::rpc
