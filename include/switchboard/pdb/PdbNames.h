// Symbol names from a program database (PDB 7.0 / MSF), read with LLVM's
// native PDB reader, and the x86 frame data a stack walk runs. A PDB is only used when its GUID and age are those of
// the image's CodeView (RSDS) record: a stale PDB would name the wrong code.
#pragma once
#include "switchboard/pe/PeImage.h"
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sb::pdb {

struct PdbSymbol {
  uint32_t rva = 0;
  std::string name;         // display form: demangleMsvcShort(raw) ("Bar::foo(int)") when raw is
                            // MSVC-decorated, else the record's name
  std::string raw;          // as in the PDB: the procedure's own public (decorated) name when one is
                            // at its rva, else the record's name ("Bar::foo" for a static function)
  bool isFunction = false;  // code: an S_*PROC32 record, or an S_PUB32 flagged as a function
  bool fromProc = false;    // named by S_GPROC32/S_LPROC32 (or their _ID forms), not only by S_PUB32
  uint32_t size = 0;        // the procedure's code size; 0 for a public
};

// x86 frame data (the DBI's "new FPO" stream, FRAMEDATA records): for code
// in [rva, rva + size), how its caller's registers are computed, as a
// postfix program over the registers ("$T0 $ebp 4 + = $eip $T0 ^ = ...").
// A function has one record per prolog step. Kept: what a stack walk
// reads (the program, and the sizes its .raSearch starts from).
struct FrameRecord {
  uint32_t rva = 0, size = 0;
  uint32_t localsBytes = 0, savedRegsBytes = 0;
  std::string program;
};

struct PdbNames {
  std::string path;                    // the PDB read; empty when none was found
  std::vector<PdbSymbol> symbols;      // sorted by rva, one per rva, procedures before publics
  std::vector<FrameRecord> frames;     // x86 frame data, sorted by rva (empty for x64 and old PDBs)
  std::vector<std::string> warnings;   // PDBs found but skipped, records that were dropped
};

// Reads the PDB at pdbPath. Fails when it is not a readable PDB or when its
// GUID/age differ from the image's CodeView record; imageName only names the
// image in that message.
Expected<PdbNames> readPdbNames(const pe::PeImage &img, const std::string &pdbPath,
                                const std::string &imageName = "the image");

// The image's PDB: explicitPdb when given (its errors are returned); else the
// first matching one of <image dir>/<image stem>.pdb, <image dir>/<CodeView
// file name>, and, for each directory of SWITCHBOARD_SYMBOL_PATH (';' or ':'
// separated), <dir>/<name>.pdb and <dir>/<name>.pdb/<GUID><AGE>/<name>.pdb.
// Nothing found is no error: the result has an empty path.
Expected<PdbNames> findPdbNames(const pe::PeImage &img, const std::string &imagePath,
                                const std::string &explicitPdb);

} // namespace sb::pdb
