// The model's facts in a stand-in record, tool by tool.
#include "ScriptFacts.h"

#include "StandIn.h"
#include "exporters/Script.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <tuple>

namespace sb::test::script {
using json = nlohmann::json;
using exporters::Tool;

namespace {
// The facts of the model the first run's calls carry, tool by tool.
class Checker {
public:
  Checker(Tool t, const exporters::ExportModel &m, const json &run, std::string file)
      : t_(t), m_(m), run_(run), file_(std::move(file)), names_(exporters::toolNames(m, t)),
        atStart_(exporters::script::commentAtStart(m)) {}

  Counts check() {
    switch (t_) {
    case Tool::Ida: ida(); break;
    case Tool::Ghidra: ghidra(); break;
    case Tool::Binja: binja(); break;
    default: break;
    }
    // What the loops above went through.
    n_.functions = m_.functions.size();
    for (const exporters::ExportFunction &f : m_.functions)
      n_.tails += f.chunks.size() - 1;
    n_.names = m_.names.size(), n_.comments = m_.comments.size(), n_.xrefs = m_.xrefs.size();
    n_.types = typeNames().size(), n_.bookmarks = m_.bookmarks.size();
    return n_;
  }

private:
  uint64_t va(uint64_t rva) const { return m_.imageBase + rva; }
  std::vector<json> calls(const std::string &api) const { return callsTo(run_, api); }
  std::string where(uint64_t rva) const { return fmt::format("{} 0x{:x}", file_, rva); }
  std::set<std::string> typeNames() const {
    std::set<std::string> out;
    for (const auto &d : exporters::script::cDeclarations(m_, exporters::script::CFlavor::Binja, ""))
      out.insert(d.name);
    return out;
  }

  void ida() {
    std::set<uint64_t> made;
    for (const json &c : calls("ida_funcs.add_func"))
      made.insert(c["args"][0].get<uint64_t>());
    std::set<std::tuple<uint64_t, uint64_t, uint64_t>> tails;
    for (const json &c : calls("ida_funcs.append_func_tail"))
      tails.insert({c["args"][0]["func"].get<uint64_t>(), c["args"][1].get<uint64_t>(), c["args"][2].get<uint64_t>()});
    for (const exporters::ExportFunction &f : m_.functions) {
      EXPECT_TRUE(made.count(va(f.rva))) << where(f.rva) << ": no add_func";
      for (size_t k = 1; k < f.chunks.size(); ++k)
        EXPECT_TRUE(tails.count({va(f.rva), va(f.chunks[k].rva), va(f.chunks[k].end)})) << where(f.chunks[k].rva);
    }
    std::map<uint64_t, std::string> named;
    for (const json &c : calls("ida_name.set_name"))
      named[c["args"][0].get<uint64_t>()] = c["args"][1];
    for (size_t i = 0; i < m_.names.size(); ++i)
      EXPECT_EQ(named[va(m_.names[i].rva)], names_[i]) << where(m_.names[i].rva);
    // set_cmt's rptble is a bool (bytes.hpp): a Python bool, not 0/1.
    std::map<std::pair<uint64_t, bool>, std::string> comments;
    for (const json &c : calls("ida_bytes.set_cmt"))
      comments[{c["args"][0].get<uint64_t>(), c["args"][2].get<bool>()}] = c["args"][1];
    for (size_t i = 0; i < m_.comments.size(); ++i)
      EXPECT_EQ((comments[{va(m_.comments[i].rva), atStart_[i]}]), m_.comments[i].text)
          << where(m_.comments[i].rva);
    std::map<std::pair<uint64_t, uint64_t>, std::string> refs;
    for (const char *api : {"ida_xref.add_cref", "ida_xref.add_dref"})
      for (const json &c : calls(api))
        refs[{c["args"][0].get<uint64_t>(), c["args"][1].get<uint64_t>()}] =
            fmt::format("{}/{}", api, c["args"][2].get<int>());
    for (const exporters::ExportXref &x : m_.xrefs) {
      // fl_JN 19 / fl_CN 17 / dr_O 1, each | XREF_USER 0x20.
      const char *want = x.type == exporters::XrefType::Code   ? "ida_xref.add_cref/51"
                         : x.type == exporters::XrefType::Call ? "ida_xref.add_cref/49"
                                                                : "ida_xref.add_dref/33";
      EXPECT_EQ((refs[{va(x.from), va(x.to)}]), want) << where(x.from);
    }
    std::string decls;
    for (const json &c : calls("idc.parse_decls"))
      decls += c["args"][0].get<std::string>();
    for (const auto &d : exporters::script::cDeclarations(m_, exporters::script::CFlavor::Ida, "SB_")) {
      EXPECT_NE(decls.find(d.text), std::string::npos) << file_ << ": " << d.text;
    }
    std::set<std::pair<uint64_t, std::string>> marks;
    for (const json &c : calls("idc.put_bookmark"))
      marks.insert({c["args"][0].get<uint64_t>(), c["args"][5]});
    for (const exporters::ExportBookmark &b : m_.bookmarks)
      EXPECT_TRUE(marks.count({va(b.rva), b.text})) << where(b.rva) << " " << b.text;
  }

  void ghidra() {
    const std::string flat = "ghidra.program.flatapi.FlatProgramAPI.";
    std::set<uint64_t> made;
    for (const json &c : calls(flat + "createFunction"))
      made.insert(addrOf(c["args"][0]));
    for (const exporters::ExportFunction &f : m_.functions)
      EXPECT_TRUE(made.count(va(f.rva))) << where(f.rva) << ": no createFunction";
    // Full names: a label's namespace and name, or a function's name in its namespace.
    std::map<uint64_t, std::string> label, fname, fns;
    for (const json &c : calls(flat + "createLabel")) {
      const std::string ns = c["args"][2]["ns"];
      label[addrOf(c["args"][0])] = (ns.empty() ? "" : ns + "::") + c["args"][1].get<std::string>();
      EXPECT_EQ(c["args"][3], true) << "a primary label";
    }
    for (const json &c : calls("ghidra.program.model.listing.Function.setName"))
      fname[c["self"]["function"].get<uint64_t>()] = c["args"][0];
    for (const json &c : calls("ghidra.program.model.listing.Function.setParentNamespace"))
      fns[c["self"]["function"].get<uint64_t>()] = c["args"][0]["ns"];
    for (size_t i = 0; i < m_.names.size(); ++i) {
      const uint64_t a = va(m_.names[i].rva);
      std::string got = label.count(a) ? label[a] : (fns[a].empty() ? "" : fns[a] + "::") + fname[a];
      EXPECT_EQ(got, names_[i]) << where(m_.names[i].rva);
      const char *source = names::isRecovered(m_.names[i].source) ? "SourceType.ANALYSIS" : "SourceType.IMPORTED";
      for (const json &c : calls(label.count(a) ? flat + "createLabel" : "ghidra.program.model.listing.Function.setName")) {
        if ((label.count(a) ? addrOf(c["args"][0]) : c["self"]["function"].get<uint64_t>()) == a) {
          EXPECT_EQ(c["args"].back(), source) << where(m_.names[i].rva);
        }
      }
    }
    std::map<std::pair<uint64_t, bool>, std::string> comments;
    for (const auto &[api, pre] : {std::pair{"setPreComment", true}, {"setEOLComment", false}})
      for (const json &c : calls(flat + api))
        comments[{addrOf(c["args"][0]), pre}] = c["args"][1];
    for (size_t i = 0; i < m_.comments.size(); ++i)
      EXPECT_EQ((comments[{va(m_.comments[i].rva), atStart_[i]}]), m_.comments[i].text) << where(m_.comments[i].rva);
    std::map<std::pair<uint64_t, uint64_t>, std::string> refs;
    for (const json &c : calls("ghidra.program.model.symbol.ReferenceManager.addMemoryReference"))
      refs[{addrOf(c["args"][0]), addrOf(c["args"][1])}] =
          fmt::format("{}/{}", c["args"][2].get<std::string>(), c["args"][4].get<int>());
    for (const exporters::ExportXref &x : m_.xrefs)
      EXPECT_EQ((refs[{va(x.from), va(x.to)}]),
                x.type == exporters::XrefType::Call ? "RefType.COMPUTED_CALL/0" : "RefType.DATA/-1")
          << where(x.from);
    std::set<std::string> types;
    for (const json &c : calls("ghidra.program.model.data.DataTypeManager.addDataType"))
      types.insert(c["args"][0]["type"]);
    for (const std::string &name : typeNames())
      EXPECT_TRUE(types.count(name)) << file_ << ": no type " << name;
    std::set<std::pair<uint64_t, std::string>> marks;
    for (const json &c : calls(flat + "createBookmark"))
      if (c["args"][1] == "switchboard")
        marks.insert({addrOf(c["args"][0]), c["args"][2]});
    for (const exporters::ExportBookmark &b : m_.bookmarks)
      EXPECT_TRUE(marks.count({va(b.rva), b.text})) << where(b.rva);
  }

  void binja() {
    const std::string bv = "binaryninja.binaryview.BinaryView.";
    std::set<uint64_t> made;
    for (const json &c : calls(bv + "create_user_function"))
      made.insert(c["args"][0].get<uint64_t>());
    for (const exporters::ExportFunction &f : m_.functions)
      EXPECT_TRUE(made.count(va(f.rva))) << where(f.rva) << ": no create_user_function";
    std::map<uint64_t, std::pair<std::string, std::string>> symbols;   // addr -> (name, type)
    for (const json &c : calls(bv + "define_user_symbol"))
      symbols[c["args"][0]["symbol"].get<uint64_t>()] = {c["args"][0]["name"], c["args"][0]["type"]};
    for (size_t i = 0; i < m_.names.size(); ++i) {
      const exporters::ExportName &n = m_.names[i];
      const char *type = n.function ? "SymbolType.FunctionSymbol"
                         : n.label  ? "SymbolType.LocalLabelSymbol"
                                    : "SymbolType.DataSymbol";
      EXPECT_EQ(symbols[va(n.rva)], std::make_pair(names_[i], std::string(type))) << where(n.rva);
    }
    std::map<uint64_t, std::string> comments;
    for (const std::string &api : {bv + "set_comment_at", std::string("binaryninja.function.Function.set_comment_at")})
      for (const json &c : calls(api))
        comments[c["args"][0].get<uint64_t>()] = c["args"][1];
    for (const exporters::ExportComment &c : m_.comments)
      EXPECT_EQ(comments[va(c.rva)], c.text) << where(c.rva);
    std::set<std::pair<uint64_t, uint64_t>> code, data;
    for (const json &c : calls("binaryninja.function.Function.add_user_code_ref"))
      code.insert({c["args"][0].get<uint64_t>(), c["args"][1].get<uint64_t>()});
    for (const json &c : calls(bv + "add_user_data_ref"))
      data.insert({c["args"][0].get<uint64_t>(), c["args"][1].get<uint64_t>()});
    for (const exporters::ExportXref &x : m_.xrefs)
      EXPECT_TRUE((x.type == exporters::XrefType::Data ? data : code).count({va(x.from), va(x.to)})) << where(x.from);
    std::set<std::string> types;
    for (const json &c : calls(bv + "define_user_type"))
      types.insert(c["args"][0]);
    for (const std::string &name : typeNames())
      EXPECT_TRUE(types.count(name)) << file_ << ": no type " << name;
    std::set<std::pair<uint64_t, std::string>> marks;
    for (const json &c : calls(bv + "add_tag"))
      marks.insert({c["args"][0].get<uint64_t>(), c["args"][2]});
    for (const exporters::ExportBookmark &b : m_.bookmarks)
      EXPECT_TRUE(marks.count({va(b.rva), b.text})) << where(b.rva);
  }

  Tool t_;
  const exporters::ExportModel &m_;
  const json &run_;
  std::string file_;
  std::vector<std::string> names_;
  std::vector<bool> atStart_;
  Counts n_;
};
} // namespace

Counts checkFacts(Tool t, const exporters::ExportModel &m, const json &run, const std::string &file) {
  return Checker(t, m, run, file).check();
}

const std::set<std::string> &creators(Tool t) {
  static const std::map<Tool, std::set<std::string>> c = {
      {Tool::Ida,
       {"ida_funcs.add_func", "ida_funcs.append_func_tail", "ida_name.set_name", "ida_bytes.set_cmt", "idc.put_bookmark"}},
      {Tool::Ghidra,
       {"ghidra.program.flatapi.FlatProgramAPI.createFunction", "ghidra.program.flatapi.FlatProgramAPI.createLabel",
        "ghidra.program.model.symbol.SymbolTable.createNameSpace", "ghidra.program.model.listing.Function.setName",
        "ghidra.program.model.listing.Function.setParentNamespace",
        "ghidra.program.flatapi.FlatProgramAPI.setPreComment", "ghidra.program.flatapi.FlatProgramAPI.setEOLComment",
        "ghidra.program.model.symbol.ReferenceManager.addMemoryReference"}},
      {Tool::Binja,
       {"binaryninja.binaryview.BinaryView.create_user_function", "binaryninja.binaryview.BinaryView.define_user_symbol",
        "binaryninja.binaryview.BinaryView.set_comment_at", "binaryninja.function.Function.set_comment_at",
        "binaryninja.binaryview.BinaryView.add_tag", "binaryninja.binaryview.BinaryView.create_tag_type"}}};
  return c.at(t);
}

} // namespace sb::test::script
