#include "switchboard/rpc/Rpc.h"

#include "rpc/Interfaces.h"
#include "rpc/Ndr.h"
#include "rpc/Sites.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallIndex.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace sb::rpc {

const char *roleName(Role r) { return r == Role::Server ? "server" : "client"; }

const char *stubStyleName(StubStyle s) {
  switch (s) {
  case StubStyle::Interpreted: return "interpreted";
  case StubStyle::Explicit: return "explicit";
  default: return "unknown";
  }
}

std::string Endpoint::binding() const {
  std::string s = protseq + ":";
  s += networkAddress;
  if (!endpoint.empty())
    s += "[" + endpoint + "]";
  return s;
}

const Interface *RpcModel::interfaceAt(uint32_t rva) const {
  auto it = std::lower_bound(interfaces.begin(), interfaces.end(), rva,
                             [](const Interface &i, uint32_t r) { return i.rva < r; });
  return it != interfaces.end() && it->rva == rva ? &*it : nullptr;
}

namespace {

// Dispatch-table entries that interpret the procedure's format string.
constexpr const char *kServerInterpreters[] = {
    "NdrServerCall2", "NdrServerCall", "NdrAsyncServerCall", "Ndr64AsyncServerCall64", "Ndr64AsyncServerCallAll",
    "NdrServerCallAll", "NdrServerCallNdr64", "NdrDcomAsyncStubCall", "NdrStubCall2", "NdrStubCall3",
};
// Dispatch tables longer than this are not an interface's (a bound on hostile counts).
constexpr uint32_t kMaxOpnums = 4096;

bool isServerInterpreter(const std::string &name) {
  return std::any_of(std::begin(kServerInterpreters), std::end(kServerInterpreters),
                     [&](const char *n) { return name == n; });
}

// "SwitchboardStore" from SwitchboardStore___RpcServerInterface.
std::string interfaceName(const Analysis &a, uint32_t rva) {
  auto sym = a.symbolAt(rva);
  if (!sym)
    return {};
  for (const char *suffix : {"___RpcServerInterface", "___RpcClientInterface"})
    if (sym->ends_with(suffix))
      return sym->substr(0, sym->size() - std::string_view(suffix).size());
  return {};
}

// The manager routine an explicit server stub calls: its first call of a
// function of the image after NdrServerInitialize* (the unmarshalling before
// it is all runtime calls).
uint32_t managerOfStub(const Analysis &a, uint32_t stub) {
  const code::Function *f = a.functionAt(stub);
  if (!f)
    return 0;
  const std::span<const calls::IndexedSite> sites = a.callIndex().sites();
  bool initialized = false;
  for (const code::Range &chunk : f->chunks) {
    auto it = std::lower_bound(sites.begin(), sites.end(), chunk.rva,
                               [](const calls::IndexedSite &s, uint32_t r) { return s.siteRva < r; });
    for (; it != sites.end() && it->siteRva < chunk.end; ++it) {
      if (it->kind == calls::SiteKind::Import || it->kind == calls::SiteKind::Thunk) {
        auto name = a.nameAt(it->iatRva);
        if (name && name->find("NdrServerInitialize") != std::string::npos)
          initialized = true;
      } else if (initialized && it->kind == calls::SiteKind::Direct && it->calleeRva && a.functionAt(it->calleeRva)) {
        return it->calleeRva;
      }
    }
  }
  return 0;
}

// The procedure's format string, decoded; its IDL when it names this opnum.
void decodeFormat(const Analysis &a, Procedure &p, ndr::IdlWriter &idl, bool oif) {
  if (!p.formatRva)
    return;
  auto proc = ndr::parseProcedure(a.image().bytesFromRva(p.formatRva), oif, a.image().is64());
  if (!proc || proc->procNum != p.opnum || !proc->oif)
    return;
  p.params = unsigned(proc->params.size());
  p.idl = idl.procedure(*proc, p.name.empty() ? fmt::format("Proc{}", p.opnum) : p.name);
}

void buildServer(const Analysis &a, Interface &i) {
  const image::Image &img = a.image();
  const unsigned ptr = img.pointerSize();
  auto count = img.readRva<uint32_t>(i.dispatchTableRva);
  const uint32_t table = pointerRva(img, i.dispatchTableRva + ptr);
  if (!count || !table)
    return;
  const bool ndr64 = i.transferSyntax == "NDR64";
  std::optional<Formats> formats = readServerInfo(img, i.interpreterInfoRva, ndr64);
  if (formats)
    i.stubDescRva = formats->stubDesc;
  bool interpreted = false, explicitStub = false;
  for (uint32_t n = 0; n < std::min(*count, kMaxOpnums); ++n) {
    Procedure p;
    p.opnum = n;
    const uint32_t stub = pointerRva(img, table + n * ptr);
    auto thunk = stub ? a.importThunkAt(stub) : std::nullopt;
    if (thunk && isServerInterpreter(*thunk)) {
      interpreted = true;
    } else if (stub && img.isExecutableRva(stub)) {
      explicitStub = true;
      p.stubRva = stub;
    }
    if (formats && formats->routines)
      p.rva = pointerRva(img, formats->routines + n * ptr);
    if (!p.rva && i.managerEpvRva)
      p.rva = pointerRva(img, i.managerEpvRva + n * ptr);
    if (!p.rva && p.stubRva)
      p.rva = managerOfStub(a, p.stubRva);
    if (p.rva && !img.isExecutableRva(p.rva))
      p.rva = 0;
    if (formats && formats->procString && formats->offsets)
      if (auto off = img.readRva<uint16_t>(formats->offsets + 2 * n))
        p.formatRva = formats->procString + *off;
    i.procedures.push_back(std::move(p));
  }
  i.style = interpreted ? StubStyle::Interpreted : explicitStub ? StubStyle::Explicit : StubStyle::Unknown;
  if (formats && formats->typeString)
    i.typeFormatRva = formats->typeString;
  if (formats)
    i.procFormatRva = formats->procString;
}

void buildClient(const Analysis &a, Interface &i, const std::vector<ClientCall> &calls,
                 const std::map<uint32_t, uint32_t> &formatOfSite) {
  const image::Image &img = a.image();
  std::optional<Formats> formats = readProxyInfo(img, i.interpreterInfoRva, i.transferSyntax == "NDR64");
  if (formats && formats->stubDesc)
    i.stubDescRva = formats->stubDesc;
  if (formats) {
    i.procFormatRva = formats->procString;
    if (formats->typeString)
      i.typeFormatRva = formats->typeString;
  }
  std::map<unsigned, Procedure> byOpnum;
  bool explicitStub = false, interpreted = false;
  for (const ClientCall &c : calls) {
    if (!c.opnum)
      continue;
    (c.api.starts_with("NdrClientInitialize") ? explicitStub : interpreted) = true;
    Procedure &p = byOpnum[*c.opnum];
    if (p.rva)
      continue;
    p.opnum = *c.opnum;
    p.rva = c.functionRva;
    if (auto it = formatOfSite.find(c.siteRva); it != formatOfSite.end())
      p.formatRva = it->second;
    else if (formats && formats->procString && formats->offsets)
      if (auto off = img.readRva<uint16_t>(formats->offsets + 2 * p.opnum))
        p.formatRva = formats->procString + *off;
  }
  for (auto &[n, p] : byOpnum)
    i.procedures.push_back(std::move(p));
  i.style = interpreted ? StubStyle::Interpreted : explicitStub ? StubStyle::Explicit : StubStyle::Unknown;
}

} // namespace

RpcModel findRpc(const Analysis &a) {
  RpcModel m;
  const image::Image &img = a.image();
  std::set<uint32_t> found;
  for (uint32_t rva : scanInterfaces(img))
    found.insert(rva);
  Sites sites;
  if (img.codeAnalysisSupported())
    sites = findSites(a);
  // Interfaces the code names that the scan did not find.
  std::map<uint32_t, uint32_t> interfaceOfDesc;   // stub descriptor -> interface
  for (const Sites::Call &c : sites.calls)
    if (c.stubDesc)
      if (uint32_t rva = pointerRva(img, c.stubDesc); rva && readInterface(img, rva)) {
        interfaceOfDesc[c.stubDesc] = rva;
        found.insert(rva);
      }
  std::set<uint32_t> registered;
  for (const Sites::Register &r : sites.registrations)
    if (r.interfaceRva && readInterface(img, r.interfaceRva)) {
      found.insert(r.interfaceRva);
      registered.insert(r.interfaceRva);
    }
  const std::vector<uint32_t> rvas(found.begin(), found.end());
  for (const auto &[iface, desc] : findStubDescriptors(img, rvas))
    interfaceOfDesc.emplace(desc, iface);

  for (uint32_t rva : rvas) {
    Interface i = *readInterface(img, rva);
    if (registered.count(rva))
      i.role = Role::Server;
    i.name = interfaceName(a, rva);
    m.interfaces.push_back(std::move(i));
  }
  for (const Sites::Call &c : sites.calls) {
    ClientCall call = c.call;
    if (auto it = interfaceOfDesc.find(c.stubDesc); it != interfaceOfDesc.end())
      if (const Interface *i = m.interfaceAt(it->second))
        call.interface = int(i - m.interfaces.data());
    m.calls.push_back(std::move(call));
  }
  for (Interface &i : m.interfaces) {
    const size_t index = size_t(&i - m.interfaces.data());
    for (const auto &[desc, iface] : interfaceOfDesc)
      if (iface == i.rva && !i.stubDescRva)
        i.stubDescRva = desc;
    if (i.role == Role::Server) {
      buildServer(a, i);
    } else {
      std::vector<ClientCall> mine;
      std::map<uint32_t, uint32_t> formatOfSite;
      for (size_t k = 0; k < m.calls.size(); ++k)
        if (m.calls[k].interface == int(index)) {
          mine.push_back(m.calls[k]);
          if (sites.calls[k].formatRva)
            formatOfSite[m.calls[k].siteRva] = sites.calls[k].formatRva;
        }
      buildClient(a, i, mine, formatOfSite);
    }
    if (!i.typeFormatRva)
      i.typeFormatRva = typeFormatOf(img, i.stubDescRva);
    for (const Sites::Register &r : sites.registrations)
      if (r.interfaceRva == i.rva)
        i.registrations.push_back(r.registration);
    // Names from symbols where the image has them.
    for (Procedure &p : i.procedures)
      if (p.rva)
        if (auto sym = a.symbolAt(p.rva))
          p.name = *sym;
    const std::span<const uint8_t> types = i.typeFormatRva ? img.bytesFromRva(i.typeFormatRva) : std::span<const uint8_t>();
    ndr::IdlWriter idl(types, img.is64());
    const bool oif = i.style != StubStyle::Explicit;
    for (Procedure &p : i.procedures)
      decodeFormat(a, p, idl, oif);
    i.typedefs = idl.typedefs();
  }
  for (const Sites::Register &r : sites.registrations)
    if (!r.interfaceRva)
      m.warnings.push_back(fmt::format("{} at {}: the interface argument is not known", r.registration.api,
                                       a.describe(r.registration.siteRva)));
  m.endpoints = std::move(sites.endpoints);
  return m;
}

std::vector<Link> linkRpc(std::span<const RpcModel *const> models) {
  std::vector<Link> out;
  // (uuid, version) -> (module, interface) of each server.
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<size_t, size_t>>> servers;
  for (size_t m = 0; m < models.size(); ++m)
    for (size_t i = 0; i < models[m]->interfaces.size(); ++i) {
      const Interface &x = models[m]->interfaces[i];
      if (x.role == Role::Server)
        servers[{x.uuid, x.version()}].push_back({m, i});
    }
  for (size_t m = 0; m < models.size(); ++m)
    for (const ClientCall &c : models[m]->calls) {
      if (c.interface < 0 || !c.opnum)
        continue;
      const Interface &client = models[m]->interfaces[size_t(c.interface)];
      auto it = servers.find({client.uuid, client.version()});
      if (it == servers.end())
        continue;
      for (const auto &[sm, si] : it->second) {
        const Interface &server = models[sm]->interfaces[si];
        if (*c.opnum >= server.procedures.size() || !server.procedures[*c.opnum].rva)
          continue;
        out.push_back({m, c.siteRva, *c.opnum, sm, server.procedures[*c.opnum].rva, size_t(c.interface), si});
      }
    }
  return out;
}

} // namespace sb::rpc
