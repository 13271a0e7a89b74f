// `switchboard rpc FILE [MORE...]`: the RPC interfaces each file serves and
// calls, their procedures as IDL, the client call sites and endpoints, and
// (with several files) each client call linked to the server routine of
// another file with the same interface UUID and version.
#include "Common.h"
#include "UnwindFormat.h"

#include "switchboard/graph/Recognizers.h"
#include "switchboard/names/Names.h"
#include "switchboard/rpc/Rpc.h"


namespace sb::cli {
namespace {

struct RpcOptions : CommonOptions {
  std::vector<std::string> more;
};

json interfaceJson(const Analysis &a, const std::string &module, const rpc::Interface &i) {
  json procs = json::array();
  for (const rpc::Procedure &p : i.procedures) {
    json j = {{"opnum", p.opnum}, {"rva", p.rva}, {"name", p.rva ? a.displayName(p.rva) : ""}};
    if (p.stubRva)
      j["stub_rva"] = p.stubRva;
    if (p.formatRva)
      j["format_rva"] = p.formatRva;
    j["params"] = p.params ? json(*p.params) : json(nullptr);
    j["idl"] = p.idl;
    procs.push_back(std::move(j));
  }
  json regs = json::array();
  for (const rpc::Registration &r : i.registrations) {
    json j = {{"site_rva", r.siteRva}, {"api", r.api}};
    j["flags"] = r.flags ? json(*r.flags) : json(nullptr);
    j["max_calls"] = r.maxCalls ? json(*r.maxCalls) : json(nullptr);
    j["security_callback_rva"] = r.securityCallbackRva ? json(r.securityCallbackRva) : json(nullptr);
    regs.push_back(std::move(j));
  }
  return {{"module", module},
          {"uuid", i.uuid},
          {"version", i.version()},
          {"name", i.name},
          {"role", rpc::roleName(i.role)},
          {"rva", i.rva},
          {"transfer_syntax", i.transferSyntax},
          {"style", rpc::stubStyleName(i.style)},
          {"flags", i.flags},
          {"stub_desc_rva", i.stubDescRva},
          {"dispatch_table_rva", i.dispatchTableRva},
          {"interpreter_info_rva", i.interpreterInfoRva},
          {"proc_format_rva", i.procFormatRva},
          {"type_format_rva", i.typeFormatRva},
          {"procedures", procs},
          {"registrations", regs},
          {"typedefs", i.typedefs}};
}

// The interface as an .idl file reads.
void printIdl(const rpc::Interface &i) {
  fmt::print("[uuid({}), version({})]\ninterface {}\n{{\n", i.uuid, i.version(),
             i.name.empty() ? "rpc_" + names::identifierPart(i.uuid) : i.name);
  for (const std::string &t : i.typedefs) {
    for (size_t at = 0, nl; at < t.size(); at = nl + 1) {
      nl = t.find('\n', at);
      if (nl == std::string::npos)
        nl = t.size();
      fmt::print("    {}\n", t.substr(at, nl - at));
    }
  }
  for (const rpc::Procedure &p : i.procedures)
    if (!p.idl.empty())
      fmt::print("    {};\n", p.idl);
    else
      fmt::print("    /* opnum {}: format not decoded */\n", p.opnum);
  fmt::print("}}\n");
}

void printText(const Analysis &a, const std::string &module, const rpc::RpcModel &m) {
  const pe::PeImage &img = a.image();
  fmt::print("{}: {} RPC interface{}, {} client call{}, {} endpoint{}\n", module, m.interfaces.size(),
             m.interfaces.size() == 1 ? "" : "s", m.calls.size(), m.calls.size() == 1 ? "" : "s", m.endpoints.size(),
             m.endpoints.size() == 1 ? "" : "s");
  for (const rpc::Interface &i : m.interfaces) {
    fmt::print("\n{} {} v{} {} ({}, {} stubs)  {}\n", rpc::roleName(i.role), i.uuid, i.version(),
               i.name.empty() ? "" : i.name, i.transferSyntax, rpc::stubStyleName(i.style),
               formatVa(img, img.rvaToVa(i.rva)));
    for (const rpc::Registration &r : i.registrations)
      fmt::print("  registered at {} by {}{}{}{}\n", formatVa(img, img.rvaToVa(r.siteRva)), r.api,
                 r.flags ? fmt::format(", flags 0x{:x}", *r.flags) : "",
                 r.maxCalls ? fmt::format(", max calls {}", int64_t(*r.maxCalls)) : "",
                 r.securityCallbackRva ? ", security callback " + a.displayName(r.securityCallbackRva) : "");
    for (const rpc::Procedure &p : i.procedures)
      fmt::print("  opnum {:3}  {}  {}\n", p.opnum, p.rva ? formatVa(img, img.rvaToVa(p.rva)) : std::string(img.is64() ? 17 : 8, '-'),
                 p.rva ? a.displayName(p.rva) : "");
    fmt::print("\n");
    printIdl(i);
  }
  if (!m.calls.empty())
    fmt::print("\nClient calls\n");
  for (const rpc::ClientCall &c : m.calls)
    fmt::print("  {}  {:<24} {} opnum {}\n", formatVa(img, img.rvaToVa(c.siteRva)), c.api,
               c.interface >= 0 ? m.interfaces[size_t(c.interface)].label() : "?",
               c.opnum ? std::to_string(*c.opnum) : "?");
  if (!m.endpoints.empty())
    fmt::print("\nEndpoints\n");
  for (const rpc::Endpoint &e : m.endpoints)
    fmt::print("  {}  {:<26} {} {}\n", formatVa(img, img.rvaToVa(e.siteRva)), e.api, rpc::roleName(e.role),
               e.binding());
  for (const std::string &w : m.warnings)
    fmt::print(stderr, "switchboard: warning: {}\n", w);
}

} // namespace

Command rpcCommand() {
  auto o = std::make_shared<RpcOptions>();
  Command cmd{"rpc", "RPC interfaces served and called, procedures as IDL, client calls linked across files",
              Needs::Code, {}, o,
              [o](CLI::App &app) { app.add_option("MORE", o->more, "More PE files: client calls are linked to their servers"); },
              nullptr};
  cmd.run = [o, cmd](const Context &c) -> int {
    auto files = openAll(cmd, *c.analysis, o->file, o->more, c.api);
    if (!files)
      return kExitFailure;
    const std::vector<const Analysis *> &all = files->all;
    const std::vector<std::string> &modules = files->modules;
    std::vector<const rpc::RpcModel *> models;
    for (const Analysis *a : all)
      models.push_back(&a->rpc());
    const std::vector<rpc::Link> links = rpc::linkRpc(models);
    c.phase("render");
    if (o->json) {
      json interfaces = json::array(), callsJ = json::array(), endpoints = json::array(), linksJ = json::array();
      for (size_t m = 0; m < all.size(); ++m) {
        for (const rpc::Interface &i : models[m]->interfaces)
          interfaces.push_back(interfaceJson(*all[m], modules[m], i));
        for (const rpc::ClientCall &x : models[m]->calls) {
          json j = {{"module", modules[m]}, {"site_rva", x.siteRva}, {"function_rva", x.functionRva}, {"api", x.api}};
          j["interface_rva"] = x.interface >= 0 ? json(models[m]->interfaces[size_t(x.interface)].rva) : json(nullptr);
          j["opnum"] = x.opnum ? json(*x.opnum) : json(nullptr);
          callsJ.push_back(std::move(j));
        }
        for (const rpc::Endpoint &e : models[m]->endpoints)
          endpoints.push_back({{"module", modules[m]}, {"site_rva", e.siteRva}, {"api", e.api},
                               {"role", rpc::roleName(e.role)}, {"protseq", e.protseq},
                               {"network_address", e.networkAddress}, {"endpoint", e.endpoint},
                               {"binding", e.binding()}});
      }
      for (const rpc::Link &l : links)
        linksJ.push_back({{"client_module", modules[l.clientModule]}, {"client_rva", l.clientRva},
                          {"opnum", l.opnum}, {"server_module", modules[l.serverModule]},
                          {"server_rva", l.serverRva},
                          {"server_name", all[l.serverModule]->displayName(l.serverRva)}});
      printJson({{"interfaces", interfaces}, {"calls", callsJ}, {"endpoints", endpoints}, {"links", linksJ}});
      return kExitOk;
    }
    for (size_t m = 0; m < all.size(); ++m) {
      if (m)
        fmt::print("\n");
      printText(*all[m], modules[m], *models[m]);
    }
    if (all.size() > 1) {
      fmt::print("\nLinks (client call -> server routine)\n");
      for (const rpc::Link &l : links) {
        const graph::Edge e = graph::rpcLinkEdge(*models[l.serverModule], modules[l.serverModule],
                                                 all[l.serverModule]->displayName(l.serverRva), l);
        fmt::print("  {}+0x{:x}  {}  ->  {}!{}\n", modules[l.clientModule], l.clientRva, e.label, e.toModule, e.toName);
      }
      if (links.empty())
        fmt::print("  (none)\n");
    }
    return kExitOk;
  };
  return cmd;
}

} // namespace sb::cli
