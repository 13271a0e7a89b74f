// `switchboard ports FILE [MORE...]`: the LPC/ALPC port calls of each file
// with their port names, the server loops with the message kinds they
// dispatch on, and (with several files) each client connect/send site
// linked to the server loop of the port with the same name.
#include "Common.h"
#include "UnwindFormat.h"

#include "switchboard/graph/Recognizers.h"
#include "switchboard/names/Names.h"
#include "switchboard/ports/Ports.h"


namespace sb::cli {
namespace {

struct PortsOptions : CommonOptions {
  std::vector<std::string> more;
};

// "Type" for the header's kind field, "payload+0x4" past the header.
std::string fieldName(const ports::PortModel &m, uint32_t offset) {
  if (offset == ports::kPortMessageTypeOffset)
    return "Type";
  return fmt::format("payload+0x{:x}", offset - m.headerSize);
}

std::string valueText(const ports::MessageKinds &k, int64_t v) {
  if (k.offset == ports::kPortMessageTypeOffset)
    return fmt::format("{} ({})", ports::portMessageTypeName(unsigned(v)), v);
  return v < 0 || v > 9 ? fmt::format("0x{:x}", uint64_t(v)) : std::to_string(v);
}

// Appends the module's calls and loops.
void moduleJson(const Analysis &a, const std::string &module, const ports::PortModel &m, json &calls, json &loops) {
  for (const ports::PortCall &c : m.calls)
    calls.push_back({{"module", module}, {"site_rva", c.siteRva}, {"function_rva", c.functionRva},
                     {"function", a.displayName(c.functionRva)}, {"api", c.api}, {"op", ports::opName(c.op)},
                     {"alpc", c.alpc}, {"port", c.portName.empty() ? json(nullptr) : json(c.portName)}});
  for (const ports::ServerLoop &l : m.loops) {
    json kinds = json::array();
    for (const ports::MessageKinds &k : l.kinds)
      kinds.push_back({{"offset", k.offset}, {"field", fieldName(m, k.offset)}, {"values", k.values}});
    loops.push_back({{"module", module}, {"rva", l.functionRva}, {"name", a.displayName(l.functionRva)},
                     {"site_rva", l.siteRva}, {"api", l.api}, {"alpc", l.alpc},
                     {"port", l.portName.empty() ? json(nullptr) : json(l.portName)}, {"kinds", kinds}});
  }
}

void printText(const Analysis &a, const std::string &module, const ports::PortModel &m) {
  const pe::PeImage &img = a.image();
  fmt::print("{}: {} port call{}, {} server loop{}\n", module, m.calls.size(), m.calls.size() == 1 ? "" : "s",
             m.loops.size(), m.loops.size() == 1 ? "" : "s");
  if (!m.calls.empty())
    fmt::print("\nPort calls\n");
  for (const ports::PortCall &c : m.calls)
    fmt::print("  {}  {:<26} {:<4} {:<8} {:<34} {}\n", formatVa(img, img.rvaToVa(c.siteRva)), c.api,
               c.alpc ? "ALPC" : "LPC", ports::opName(c.op), c.portName.empty() ? "?" : c.portName,
               a.displayName(c.functionRva));
  if (!m.loops.empty())
    fmt::print("\nServer loops\n");
  for (const ports::ServerLoop &l : m.loops) {
    fmt::print("  {}  {}  {} {} at {}  port {}\n", formatVa(img, img.rvaToVa(l.functionRva)), a.displayName(l.functionRva),
               l.alpc ? "ALPC" : "LPC", l.api, formatVa(img, img.rvaToVa(l.siteRva)),
               l.portName.empty() ? "?" : l.portName);
    for (const ports::MessageKinds &k : l.kinds) {
      std::string values;
      for (int64_t v : k.values)
        values += (values.empty() ? "" : ", ") + valueText(k, v);
      fmt::print("    dispatches on {} (+0x{:x}): {}\n", fieldName(m, k.offset), k.offset, values);
    }
  }
}

} // namespace

Command portsCommand() {
  auto o = std::make_shared<PortsOptions>();
  Command cmd{"ports", "LPC/ALPC port calls with port names, server loops and their message kinds, links across files",
              Needs::Code, {}, o,
              [o](CLI::App &app) { app.add_option("MORE", o->more, "More PE files: client sends are linked to their servers"); },
              nullptr};
  cmd.run = [o, cmd](const Context &c) -> int {
    auto files = openAll(cmd, *c.analysis, o->file, o->more, c.api);
    if (!files)
      return kExitFailure;
    const std::vector<const Analysis *> &all = files->all;
    const std::vector<std::string> &modules = files->modules;
    std::vector<const ports::PortModel *> models;
    for (const Analysis *a : all)
      models.push_back(&a->ports());
    const std::vector<ports::PortLink> links = ports::linkPorts(models);
    c.phase("render");
    if (o->json) {
      json calls = json::array(), loops = json::array(), linksJ = json::array();
      for (size_t m = 0; m < all.size(); ++m)
        moduleJson(*all[m], modules[m], *models[m], calls, loops);
      for (const ports::PortLink &l : links)
        linksJ.push_back({{"client_module", modules[l.clientModule]}, {"client_rva", l.clientRva},
                          {"port", l.portName}, {"server_module", modules[l.serverModule]},
                          {"server_rva", l.serverLoopRva},
                          {"server_name", all[l.serverModule]->displayName(l.serverLoopRva)}});
      printJson({{"calls", calls}, {"loops", loops}, {"links", linksJ}});
      return kExitOk;
    }
    for (size_t m = 0; m < all.size(); ++m) {
      if (m)
        fmt::print("\n");
      printText(*all[m], modules[m], *models[m]);
    }
    if (all.size() > 1) {
      fmt::print("\nLinks (client site -> server loop)\n");
      for (const ports::PortLink &l : links) {
        const graph::Edge e =
            graph::portLinkEdge(modules[l.serverModule], all[l.serverModule]->displayName(l.serverLoopRva), l);
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
