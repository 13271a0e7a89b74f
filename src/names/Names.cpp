#include "switchboard/names/Names.h"

#include <cctype>

namespace sb::names {

const char *sourceName(Source s) {
  switch (s) {
  case Source::Pdb: return "pdb";
  case Source::Export: return "export";
  case Source::Coff: return "coff";
  case Source::Import: return "import";
  case Source::Structor: return "structor";
  case Source::Vftable: return "vftable";
  case Source::Rtti: return "rtti";
  case Source::MessageMap: return "message_map";
  case Source::Rpc: return "rpc";
  case Source::Com: return "com";
  case Source::Port: return "port";
  case Source::VirtualMethod: return "virtual_method";
  case Source::WindowProc: return "window_procedure";
  case Source::DialogProc: return "dialog_procedure";
  case Source::SubclassProc: return "subclass_procedure";
  case Source::HookProc: return "hook_procedure";
  case Source::MessageHandler: return "message_handler";
  case Source::Funclet: return "funclet";
  case Source::Callback: return "callback";
  case Source::Heuristic: return "heuristic";
  }
  return "?";
}

void NameService::add(uint64_t rva, Name name) {
  if (name.text.empty())
    return;
  auto [it, inserted] = names_.try_emplace(rva, name);
  if (!inserted) {
    if (name.source >= it->second.source)
      return;
    it->second = name;
  }
  byText_.try_emplace(name.text, rva);
  if (!name.raw.empty())
    byText_.try_emplace(name.raw, rva);
}

const Name *NameService::at(uint64_t rva) const {
  auto it = names_.find(rva);
  return it == names_.end() ? nullptr : &it->second;
}

std::optional<std::string> NameService::textAt(uint64_t rva) const {
  if (const Name *n = at(rva))
    return n->text;
  return std::nullopt;
}

std::optional<uint64_t> NameService::find(std::string_view text) const {
  auto it = byText_.find(std::string(text));
  if (it == byText_.end() || !at(it->second))
    return std::nullopt;
  return it->second;
}

std::string identifierPart(std::string_view text) {
  std::string out;
  for (char c : text)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out.empty() ? "_" : out;
}

} // namespace sb::names
