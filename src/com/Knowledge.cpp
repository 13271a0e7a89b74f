#include "switchboard/com/Com.h"

#include "switchboard/support/Text.h"

#include <nlohmann/json.hpp>

namespace sb::com {

extern const char *const kComKnowledgeJson;

const char *guidKindName(GuidKind k) {
  switch (k) {
  case GuidKind::Interface: return "interface";
  case GuidKind::Class: return "class";
  default: return "other";
  }
}

std::string guidText(std::span<const uint8_t, 16> bytes) {
  const std::string registry = formatGuid(bytes);
  return toLower(std::string_view(registry).substr(1, registry.size() - 2));
}

const Knowledge &Knowledge::builtin() {
  static const Knowledge k = [] {
    Knowledge out;
    const nlohmann::json j = nlohmann::json::parse(kComKnowledgeJson);
    for (const auto &g : j.at("guids")) {
      const std::string kind = g.at("kind");
      out.guids_[g.at("guid")] = {g.at("name"), kind == "interface" ? GuidKind::Interface
                                               : kind == "class"   ? GuidKind::Class
                                                                   : GuidKind::Other};
    }
    for (const auto &i : j.at("interfaces")) {
      Interface x;
      x.name = i.at("name");
      x.base = i.value("base", "");
      x.methods = i.at("methods").get<std::vector<std::string>>();
      out.byIid_[i.at("iid")] = out.interfaces_.size();
      out.byName_[x.name] = out.interfaces_.size();
      out.interfaces_.push_back(std::move(x));
    }
    return out;
  }();
  return k;
}

const Knowledge::Guid *Knowledge::guid(std::string_view text) const {
  auto it = guids_.find(std::string(text));
  return it != guids_.end() ? &it->second : nullptr;
}

const Knowledge::Interface *Knowledge::interfaceByIid(std::string_view iid) const {
  auto it = byIid_.find(std::string(iid));
  return it != byIid_.end() ? &interfaces_[it->second] : nullptr;
}

const Knowledge::Interface *Knowledge::interfaceNamed(std::string_view name) const {
  auto it = byName_.find(std::string(name));
  return it != byName_.end() ? &interfaces_[it->second] : nullptr;
}

std::optional<std::string> Knowledge::method(const Interface &i, unsigned slot) const {
  // The base chain, root first (bounded: a cycle in the data stops it).
  std::vector<const Interface *> chain{&i};
  for (const Interface *b = &i; !b->base.empty() && chain.size() < 32;) {
    b = interfaceNamed(b->base);
    if (!b)
      return std::nullopt;   // a base the knowledge lacks: slots are unknown
    chain.push_back(b);
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (slot < (*it)->methods.size())
      return (*it)->methods[slot];
    slot -= unsigned((*it)->methods.size());
  }
  return std::nullopt;
}

} // namespace sb::com
