// Hostile project databases: the model decoders on raw bytes (the first byte
// picks the model), and whole files through Analysis::open (SQLite, the
// schema checks, the stored image and the lazily decoded models).
#include "db/Serialize.h"

#include "switchboard/analysis/Analysis.h"
#include "switchboard/code/Function.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/pdb/PdbNames.h"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace {
template <typename T>
void decodeAs(std::span<const uint8_t> bytes) {
  T model;
  sb::db::decode(bytes, model);
}

void openAsDatabase(const uint8_t *data, size_t size) {
  static const std::string path = "/tmp/fuzz_sbdb_" + std::to_string(getpid()) + ".sbdb";
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto a = sb::Analysis::open(path);
  if (a) {
    (*a)->objectModel();
    (*a)->names();
    (*a)->graph();
  }
  std::remove(path.c_str());
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 8) {
  case 0: decodeAs<std::vector<sb::code::Function>>(rest); break;
  case 1: decodeAs<sb::eh::EhModel>(rest); break;
  case 2: decodeAs<sb::cxx::ObjectModel>(rest); break;
  case 3: decodeAs<sb::messages::MessageFlow>(rest); break;
  case 4: decodeAs<sb::graph::Graph>(rest); break;
  case 5: decodeAs<sb::names::NameService>(rest); break;
  case 6: decodeAs<std::vector<sb::pdb::PdbSymbol>>(rest); break;
  default: openAsDatabase(data + 1, size - 1); break;
  }
  return 0;
}
