// `switchboard export --to ida|ghidra|binja`: each script compiles
// (python3 -m py_compile; the Ghidra one also without Python-3-only syntax,
// for Jython 2.7), and run against the recording stand-in of
// tests/exporters/standin (whose fake APIs are built from
// data/exporters/*.sigs: an API not listed, or called with another number
// of arguments, fails the run) it makes the calls that put every function,
// tail, name (in the tool's sanitized form), comment, cross-reference,
// type and bookmark of the export model at its address; a second run
// leaves the database as the first did and creates nothing; a database of
// another file makes it refuse before its first change; a name the user
// gave stays. Not checked here: the scripts in the real tools.
#include "TestSupport.h"

#include "ScriptFacts.h"
#include "StandIn.h"
#include "exporters/Script.h"
#include "switchboard/exporters/Exporter.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <tuple>

using namespace sb;
using namespace sb::test;
using namespace sb::test::script;
namespace fs = std::filesystem;
using json = nlohmann::json;
using exporters::Tool;

namespace sb::exporters {
// The tool's name in test names and messages.
void PrintTo(Tool t, std::ostream *os) { *os << toolName(t); }
} // namespace sb::exporters

namespace {
// One fixture through one tool's script: compiles, carries the model, is
// idempotent; returns what was checked and the APIs the runs used.
Counts checkScript(Tool t, const std::string &file, std::set<std::string> &used) {
  Scratch s;
  exporters::ExportModel m = modelOf(file);
  const std::string script = exportScript(file, t, s.file("export.py"));
  std::string err;
  EXPECT_EQ(runCommand(fmt::format("python3 -m py_compile {} 2>&1", quote(script)), &err), 0) << file << ": " << err;
  json rec = standIn(t, script, file, m.imageBase, s, t == Tool::Ghidra ? "--py2" : "");
  if (!rec.contains("runs"))
    return {};
  EXPECT_TRUE(rec["py2_problems"].empty()) << file << ": " << rec["py2_problems"].dump();
  const json &once = rec["runs"][0], &twice = rec["runs"][1];
  EXPECT_TRUE(once["error"].is_null()) << file << ": " << once["error"].get<std::string>();
  EXPECT_TRUE(twice["error"].is_null()) << file << ": " << twice["error"].dump();
  EXPECT_GT(once["writes"].get<int>(), 0) << file;
  EXPECT_TRUE(once["state"]["rejected"].empty()) << file << ": the tool would refuse " << once["state"]["rejected"].dump();
  // Idempotent: the same database after two runs, and nothing created again.
  EXPECT_EQ(once["state"], twice["state"]) << file << ": the second run changed the database";
  for (const json &c : twice["calls"])
    EXPECT_FALSE(creators(t).count(c["api"])) << file << ": the second run calls " << c.dump();
  for (const json &u : rec["used"])
    used.insert(u);
  return checkFacts(t, m, once, file);
}

// gui_app.exe's script on a database where the user named a window
// procedure and a vftable: both names stay, the recovered ones become
// comments, no call renames them, and a second run changes nothing. Adds
// the APIs the runs used to `used`; returns those the list names.
json userNamesRun(Tool t, std::set<std::string> &used) {
  Scratch s;
  const std::string gui = fixturePath("x64", "gui_app.exe");
  const exporters::ExportModel m = modelOf(gui);
  const std::string script = exportScript(gui, t, s.file("gui.py"));
  const std::vector<std::string> ours = exporters::toolNames(m, t);
  std::map<uint64_t, size_t> mine;   // address -> index of the model's name there
  for (names::Source source : {names::Source::WindowProc, names::Source::Vftable}) {
    auto it = std::find_if(m.names.begin(), m.names.end(), [&](const auto &n) { return n.source == source; });
    if (it == m.names.end()) {
      ADD_FAILURE() << "gui_app.exe has no name from " << names::sourceName(source);
      return json::array();
    }
    mine[m.imageBase + it->rva] = size_t(it - m.names.begin());
  }
  std::string seeds;
  for (const auto &[ea, i] : mine)
    seeds += fmt::format(" --user-name {:#x}=my_name_{}", ea, i);
  json rec = standIn(t, script, gui, m.imageBase, s, seeds);
  if (!rec.contains("runs"))
    return json::array();
  const json &once = rec["runs"][0];
  EXPECT_TRUE(once["error"].is_null()) << once["error"].dump();
  const std::string dump = once["state"].dump();
  for (const auto &[ea, i] : mine) {
    EXPECT_NE(dump.find(fmt::format("my_name_{}", i)), std::string::npos) << "the user's name stays";
    EXPECT_NE(dump.find("switchboard name: " + ours[i]), std::string::npos) << "the recovered name as a comment";
  }
  // No call names those addresses.
  for (const json &c : once["calls"]) {
    const std::string api = c["api"];
    uint64_t named = 0;
    if (api == "ida_name.set_name")
      named = c["args"][0].get<uint64_t>();
    else if (api == "binaryninja.binaryview.BinaryView.define_user_symbol")
      named = c["args"][0]["symbol"].get<uint64_t>();
    else if (api == "ghidra.program.model.listing.Function.setName")
      named = c["self"]["function"].get<uint64_t>();
    else if (api == "ghidra.program.flatapi.FlatProgramAPI.createLabel")
      named = addrOf(c["args"][0]);
    EXPECT_FALSE(mine.count(named)) << c.dump();
  }
  EXPECT_EQ(once["state"], rec["runs"][1]["state"]);
  for (const json &u : rec["used"])
    used.insert(u);
  return rec["listed"];
}

// gui_app.exe's model with one more class layout, whose fields have every
// size (12 bytes: an array) and a gap, rendered in-process and run: the
// structure arrives field by field. Adds the APIs used to `used`.
void oddLayoutRun(Tool t, std::set<std::string> &used) {
  Scratch s;
  const std::string gui = fixturePath("x64", "gui_app.exe");
  exporters::ExportModel m = modelOf(gui);
  exporters::ExportStruct odd{"Odd<int, char>", 0x28, {{0, 8, "vfptr"}, {8, 1, "field_8"}, {0xa, 2, "field_a"},
                                                      {0xc, 4, "field_c"}, {0x10, 12, "member_10"}}};
  m.structs.insert(m.structs.begin(), odd);
  const std::string script = s.file("odd.py");
  {
    std::ofstream f(script, std::ios::binary);
    f << exporters::render(t, m);
  }
  json rec = standIn(t, script, gui, m.imageBase, s, "--runs 1");
  if (!rec.contains("runs"))
    return;
  const json &run = rec["runs"][0];
  EXPECT_TRUE(run["error"].is_null()) << run["error"].dump();
  const std::string name = exporters::script::structTypeNames(m).front();
  EXPECT_EQ(name, "sb_Odd_int__char_");
  const json &types = run["state"]["types"];
  if (t == Tool::Ghidra) {
    const json &fields = types["/switchboard/" + name]["fields"];
    EXPECT_EQ(types["/switchboard/" + name]["size"], 0x28);
    EXPECT_EQ(fields, json::parse(R"({"0": [8, "vfptr", "QWordDataType.dataType"], "8": [1, "field_8",
      "ByteDataType.dataType"], "10": [2, "field_a", "WordDataType.dataType"], "12": [4, "field_c",
      "DWordDataType.dataType"], "16": [12, "member_10", "ByteDataType.dataType[12]"]})"));
  } else {
    const char *byte = t == Tool::Ida ? "unsigned __int8" : "uint8_t";
    EXPECT_EQ(types[name], fmt::format("struct {} {{ {} vfptr; {} field_8; {} pad_9[1]; {} field_a; {} field_c; {} "
                                       "member_10[12]; {} pad_1c[12]; }};",
                                       name, t == Tool::Ida ? "unsigned __int64" : "uint64_t", byte, byte,
                                       t == Tool::Ida ? "unsigned __int16" : "uint16_t",
                                       t == Tool::Ida ? "unsigned __int32" : "uint32_t", byte, byte));
  }
  for (const json &u : rec["used"])
    used.insert(u);
}

// IDA's own analysis makes a function of every .pdata entry, EH funclets
// and chained fragments too: on such a database (the stand-in seeded with
// a function at each tail the model gives) the IDA script makes each of
// them a tail of its parent, once. Adds the APIs the runs used to `used`.
void toolFunctionsRun(std::set<std::string> &used) {
  for (const char *arch : {"x64", "x86"})
    for (const char *exe : {"shapes.exe", "classes.exe"}) {
      Scratch s;
      const std::string file = fixturePath(arch, exe);
      const exporters::ExportModel m = modelOf(file);
      std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> tails;   // parent, start, end (VAs)
      std::string seeds;
      for (const exporters::ExportFunction &f : m.functions)
        for (size_t i = 1; i < f.chunks.size(); ++i) {
          tails.emplace_back(m.imageBase + f.rva, m.imageBase + f.chunks[i].rva, m.imageBase + f.chunks[i].end);
          seeds += fmt::format(" --tool-function {:#x}", m.imageBase + f.chunks[i].rva);
        }
      if (tails.empty())
        continue;
      const std::string script = exportScript(file, Tool::Ida, s.file("export.py"));
      json rec = standIn(Tool::Ida, script, file, m.imageBase, s, seeds);
      ASSERT_TRUE(rec.contains("runs")) << file;
      const json &once = rec["runs"][0], &twice = rec["runs"][1];
      EXPECT_TRUE(once["error"].is_null()) << file << ": " << once["error"].dump();
      EXPECT_TRUE(once["state"]["rejected"].empty()) << file << ": " << once["state"]["rejected"].dump();
      EXPECT_EQ(once["state"], twice["state"]) << file << ": the second run changed the database";
      const json &functions = once["state"]["functions"];
      for (const auto &[parent, start, end] : tails) {
        EXPECT_FALSE(functions.contains(std::to_string(start))) << file << ": IDA's function at " << hex(start) << " stays";
        const std::string key = std::to_string(parent);
        ASSERT_TRUE(functions.contains(key)) << file << ": no function at " << hex(parent);
        EXPECT_NE(std::find(functions[key].begin(), functions[key].end(), json::array({start, end})),
                  functions[key].end())
            << file << ": " << hex(start) << " is not a tail of " << hex(parent);
      }
      EXPECT_FALSE(callsTo(once, "ida_funcs.del_func").empty()) << file;
      EXPECT_TRUE(callsTo(twice, "ida_funcs.del_func").empty()) << file << ": deleted again";
      for (const json &u : rec["used"])
        used.insert(u);
      std::printf("%s: %zu tails made of IDA's own functions\n", file.c_str(), tails.size());
    }
}

class ScriptExport : public ::testing::TestWithParam<Tool> {};

std::string toolParamName(const ::testing::TestParamInfo<Tool> &info) { return exporters::toolName(info.param); }
} // namespace

TEST_P(ScriptExport, EveryFixtureCarriesTheModel) {
  const Tool t = GetParam();
  Counts total;
  std::set<std::string> used;
  for (const std::string &file : fixtureExes()) {
    Counts n = checkScript(t, file, used);
    total.functions += n.functions, total.tails += n.tails, total.names += n.names, total.comments += n.comments;
    total.xrefs += n.xrefs, total.types += n.types, total.bookmarks += n.bookmarks;
  }
  EXPECT_GT(total.functions, 100u);
  EXPECT_GT(total.comments, 20u);
  EXPECT_GT(total.xrefs, 20u);
  EXPECT_GT(total.types, 5u);
  EXPECT_GT(total.bookmarks, 0u);
  // The list is what the scripts use: every API it names is used somewhere
  // (the user's names reach the paths that keep them, the odd layout the
  // arrays).
  oddLayoutRun(t, used);
  if (t == Tool::Ida)
    toolFunctionsRun(used);
  for (const json &listed : userNamesRun(t, used))
    EXPECT_TRUE(used.count(listed)) << exporters::toolName(t) << ": " << listed << " is listed but never used";
  std::printf("%s: %zu functions (%zu tails), %zu names, %zu comments, %zu xrefs, %zu types, %zu bookmarks checked\n",
              exporters::toolName(t), total.functions, total.tails, total.names, total.comments, total.xrefs,
              total.types, total.bookmarks);
}

TEST_P(ScriptExport, RefusesAnotherBinary) {
  const Tool t = GetParam();
  Scratch s;
  const std::string gui = fixturePath("x64", "gui_app.exe");
  const std::string script = exportScript(gui, t, s.file("gui.py"));
  const uint64_t base = modelOf(gui).imageBase;
  for (const std::string &other : {fixturePath("x64", "classes.exe"), fixturePath("x86", "gui_app.exe")}) {
    json rec = standIn(t, script, other, base, s, "--runs 1");
    ASSERT_TRUE(rec.contains("runs"));
    const json &run = rec["runs"][0];
    EXPECT_TRUE(run["error"].is_null()) << run["error"].dump();
    EXPECT_EQ(run["writes"], 0) << other << ": " << run["calls"].dump();
    EXPECT_NE(run["output"].get<std::string>().find("switchboard: this script is for gui_app.exe"), std::string::npos)
        << run["output"];
  }
  // Its own binary: it runs.
  json rec = standIn(t, script, gui, base, s, "--runs 1");
  ASSERT_TRUE(rec.contains("runs"));
  EXPECT_GT(rec["runs"][0]["writes"].get<int>(), 0);
}

TEST_P(ScriptExport, KeepsTheUsersNames) {
  const Tool t = GetParam();
  std::set<std::string> used;
  userNamesRun(t, used);
}

TEST(ScriptExportIda, ItsOwnFunctionsAtTailsBecomeTails) {
  std::set<std::string> used;
  toolFunctionsRun(used);
  EXPECT_TRUE(used.count("ida_funcs.del_func"));
}

TEST_P(ScriptExport, LayoutsFieldByField) {
  std::set<std::string> used;
  oddLayoutRun(GetParam(), used);
}

TEST_P(ScriptExport, AnApiOutsideTheListFails) {
  const Tool t = GetParam();
  Scratch s;
  const std::string gui = fixturePath("x64", "gui_app.exe");
  const uint64_t base = modelOf(gui).imageBase;
  const std::string script = exportScript(gui, t, s.file("gui.py"));
  std::ifstream in(sigsOf(t));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  // The function creator dropped from the list, then given one argument too few.
  const std::string creator = t == Tool::Ida ? "add_func" : t == Tool::Ghidra ? "createFunction" : "create_user_function";
  for (bool drop : {true, false}) {
    const std::string sigs = s.file("changed.sigs");
    std::ofstream out(sigs);
    for (const std::string &line : lines) {
      std::istringstream words(line);
      std::string owner, name, low, high, effect;
      words >> owner >> name >> low >> high >> effect;
      if (name != creator)
        out << line << "\n";
      else if (!drop)
        out << owner << " " << name << " " << std::stoi(low) + 1 << " " << std::stoi(high) + 1 << " " << effect << "\n";
    }
    out.close();
    json rec = standIn(t, script, gui, base, s, "--runs 1", sigs);
    ASSERT_TRUE(rec.contains("runs"));
    const json &error = rec["runs"][0]["error"];
    ASSERT_TRUE(error.is_string()) << creator << (drop ? " dropped" : " with other counts") << ": the run passed";
    EXPECT_NE(error.get<std::string>().find(creator), std::string::npos) << error;
  }
}

INSTANTIATE_TEST_SUITE_P(Tools, ScriptExport, ::testing::Values(Tool::Ida, Tool::Ghidra, Tool::Binja), toolParamName);

TEST(ScriptExportNames, SanitizedPerToolOnTheFixture) {
  // shapes.exe's Box<int,char>: its vftable's name holds < > , ` '.
  const exporters::ExportModel m = modelOf(fixturePath("x64", "shapes.exe"));
  auto it = std::find_if(m.names.begin(), m.names.end(), [](const auto &n) {
    return std::all_of(std::begin("<>,`'"), std::end("<>,`'") - 1,
                       [&](char c) { return n.text.find(c) != std::string::npos; });
  });
  ASSERT_NE(it, m.names.end()) << "no name with < > , ` ' in shapes.exe";
  const std::string &text = it->text;
  const std::string ida = exporters::sanitizeName(Tool::Ida, text);
  EXPECT_TRUE(std::regex_match(ida, std::regex("[A-Za-z_$?@][A-Za-z0-9_$?@]*"))) << text << " -> " << ida;
  EXPECT_EQ(ida.rfind("Box_int_", 0), 0u) << ida;
  EXPECT_NE(ida.find("char__"), std::string::npos) << ida;
  // Ghidra keeps the C++ spelling as its demangler writes it ("<int,char>",
  // other blanks '_'), split at the top-level ::.
  const std::string ghidra = exporters::sanitizeName(Tool::Ghidra, text);
  std::string spelled = std::regex_replace(text, std::regex(", "), ",");
  spelled = std::regex_replace(std::regex_replace(spelled, std::regex(" (?=>)"), ""), std::regex(" "), "_");
  EXPECT_EQ(ghidra, spelled) << text;
  EXPECT_EQ(ghidra.find(' '), std::string::npos) << ghidra;
  const std::vector<std::string> parts = exporters::splitQualified(ghidra);
  ASSERT_EQ(parts.size(), 2u) << ghidra;
  EXPECT_EQ(parts[0], "Box<int,char>");
  EXPECT_EQ(parts[1].front(), '`');
  EXPECT_EQ(exporters::sanitizeName(Tool::Binja, text), text);
  // Blanks, control characters and reserved names.
  EXPECT_EQ(exporters::sanitizeName(Tool::Ghidra, "std::vector<int, std::allocator<int> >::push_back"),
            "std::vector<int,std::allocator<int>>::push_back");
  EXPECT_EQ(exporters::sanitizeName(Tool::Ghidra, "FUN_00401000"), "FUN_00401000_sb");
  EXPECT_EQ(exporters::sanitizeName(Tool::Ghidra, "DAT_140001000"), "DAT_140001000_sb");
  EXPECT_EQ(exporters::sanitizeName(Tool::Ghidra, "FUN_0040100"), "FUN_0040100");      // seven digits
  EXPECT_EQ(exporters::sanitizeName(Tool::Ghidra, "FUN_0040100g"), "FUN_0040100g");    // not hex
  EXPECT_EQ(exporters::sanitizeName(Tool::Ghidra, "_00401000"), "_00401000");          // no letters
  EXPECT_EQ(exporters::sanitizeName(Tool::Ghidra, "a::`anonymous namespace'::b"), "a::`anonymous_namespace'::b");
  EXPECT_EQ(exporters::splitQualified("a::`anonymous namespace'::b").size(), 3u);
  // A part longer than Ghidra's 2000 is cut, the split made before (a cut
  // inside a template must not swallow the rest of the name).
  const std::string huge = "Impl<" + std::string(3000, 'x') + ", int>::`vftable'";
  const std::vector<std::string> hugeParts = exporters::ghidraParts(huge);
  ASSERT_EQ(hugeParts.size(), 2u);
  EXPECT_LE(hugeParts[0].size(), 1980u);
  EXPECT_EQ(hugeParts[1], "`vftable'");
  EXPECT_EQ(exporters::sanitizeName(Tool::Ida, "WndProc_Main::WM_PAINT"), "WndProc_Main__WM_PAINT");
  EXPECT_EQ(exporters::sanitizeName(Tool::Ida, "9lives"), "_9lives");
  EXPECT_EQ(exporters::sanitizeName(Tool::Ida, std::string(600, 'a')).size(), 511u);
  EXPECT_EQ(exporters::sanitizeName(Tool::Binja, "a\nb"), "a_b");
  // Python literals: the same text in Python 2.7 and 3.
  EXPECT_EQ(exporters::script::pyString("a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80\xff"),
            "u\"a\\\"b\\\\c\\x0a\\xe9\\U0001f600\\ufffd\"");
}

TEST(ScriptExportCli, FromADatabaseAndFromADamagedOne) {
  Scratch s;
  const std::string bin = fixturePath("x64", "gui_app.exe"), db = s.file("gui_app.exe.sbdb");
  ASSERT_EQ(runCommand(fmt::format("{} analyze -q --no-pdb {} -o {}", cliPath(), quote(bin), quote(db))), 0);
  const std::string text = s.file("text.sbdb");
  std::ofstream(text) << "not a database at all\n";
  for (Tool t : {Tool::Ida, Tool::Ghidra, Tool::Binja}) {
    // From the database: the same script as from the binary; by default next to it.
    exportScript(bin, t, s.file("bin.py"));
    exportScript(db, t, s.file("db.py"));
    EXPECT_EQ(readFile(s.file("bin.py")), readFile(s.file("db.py"))) << exporters::toolName(t);
    ASSERT_EQ(runCommand(fmt::format("{} export -q --to {} {}", cliPath(), exporters::toolName(t), quote(db))), 0);
    EXPECT_TRUE(fs::exists(s.file(std::string("gui_app.exe.") + exporters::toolName(t) + ".py")));
    std::string err;
    int rc = runCommand(fmt::format("{} export -q --to {} -o {} {} 2>&1 >/dev/null", cliPath(), exporters::toolName(t),
                                    quote(s.file("bad.py")), quote(text)),
                        &err);
    EXPECT_EQ(rc, 1) << err;
    EXPECT_EQ(err.rfind("switchboard: error: ", 0), 0u) << err;
  }
}
