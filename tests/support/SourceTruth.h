// Truth written as comments in the fixture sources (tests/fixtures/src),
// located in the binary through the PDB's line tables:
//   @edge KIND -> SPEC...     on a call's line: the edges of KIND whose site
//                             is on this line reach exactly these targets
//                             (several `@edge` on one line for several kinds)
//   @region PROC NAME...      from this line to PROC's next @region line: the
//                             code that handles NAME (a message case, a catch);
//                             `@region PROC end` closes PROC's last region
//   @name KIND TEXT PROC      PROC's recovered name is TEXT (KIND: structor,
//                             window, dialog, subclass, callback, ...); TEXT
//                             ending in `_` means TEXT followed by an ordinal
//   @static VAR ctor|atexit PROC|-   the dynamic initializer of VAR calls PROC
//                             (its constructor) / registers PROC with atexit
// A SPEC is PROC (the procedure's entry, named as the PDB names it), a
// linker-map symbol (`??_GStatusWindow@@*`: mangled, `*` a prefix match),
// alternatives `A|B`, or PROC#NAME (an address whose source line is in
// PROC's region NAME).
#pragma once
#include "PdbTruth.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sb::test {

struct SourceTag {
  std::string file;   // base name: "gui_app.cpp"
  uint32_t line = 0;
  std::vector<std::string> words;   // after the @tag
};

struct SourceTruth {
  // (file, line, kind) -> target specs.
  std::map<std::tuple<std::string, uint32_t, std::string>, std::vector<std::string>> edges;
  // PROC -> sorted (line, names) region starts, with the file.
  struct Region {
    std::string file;
    uint32_t begin = 0, end = 0;   // [begin, end)
    std::set<std::string> names;
  };
  std::map<std::string, std::vector<Region>> regions;
  std::vector<SourceTag> names;     // @name
  std::vector<SourceTag> statics;   // @static
  std::set<std::string> files;      // the files read

  // The region of PROC that lists NAME, or nullptr.
  const Region *region(const std::string &proc, const std::string &name) const;
  // The regions (of any proc) holding file:line.
  std::vector<std::pair<std::string, const Region *>> regionsAt(const std::string &file, uint32_t line) const;
};

// Reads the tags of the given fixture sources (names relative to
// SB_FIXTURE_SRC_DIR).
SourceTruth readSourceTruth(const std::vector<std::string> &sources);

// The words after each `@KIND ` tag of one fixture source, in source order.
std::vector<std::vector<std::string>> sourceTags(const std::string &file, const std::string &kind);

// The PDB proc named `name` (exactly; or, for x86 decorated names, its
// undecorated form), or nullptr.
const PdbProc *procNamed(const PdbTruth &pdb, const std::string &name);

// The linker's map file (lld-link /map): symbol -> RVA, local symbols
// (funclets, `_GLOBAL__sub_I_x.cpp`) included.
using LinkMap = std::multimap<std::string, uint32_t>;
LinkMap readLinkMap(const std::string &mapPath);

// Whether rva is what SPEC names (see above).
bool matchesSpec(const SourceTruth &st, const PdbTruth &pdb, const LinkMap &map, const std::string &spec, uint32_t rva);

} // namespace sb::test
