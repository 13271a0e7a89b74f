// The project database's tables (docs/project-database.md describes each
// column). A database holds one or several modules (one `image` row each);
// every fact table starts with the module_id of the module the fact is of.
// Addresses are image-relative (RVA) 64-bit integers; the image base is in
// `image`. Enumerations are stored as the names the JSON outputs
// use. The `models` table holds each whole model in the archive format, so
// a session opened from the database answers every command exactly as the
// analysis did; the other tables hold the same facts for queries and for
// the exporters.
#pragma once

namespace sb::db {

inline constexpr int kSchemaVersion = 3;

inline constexpr const char *kSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE image (module_id INTEGER PRIMARY KEY, file_name TEXT NOT NULL, module TEXT NOT NULL, machine TEXT NOT NULL, is64 INTEGER NOT NULL,
  image_base INTEGER NOT NULL, size_of_image INTEGER NOT NULL, timestamp INTEGER NOT NULL,
  entry_rva INTEGER NOT NULL, file_size INTEGER NOT NULL, sha256 TEXT NOT NULL, pdb TEXT NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE models (module_id INTEGER NOT NULL, name TEXT NOT NULL, format INTEGER NOT NULL, checksum INTEGER NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY (module_id, name));
CREATE TABLE sections (module_id INTEGER NOT NULL, name TEXT, rva INTEGER, virtual_size INTEGER, raw_offset INTEGER, raw_size INTEGER,
  characteristics INTEGER);
CREATE TABLE imports (module_id INTEGER NOT NULL, dll TEXT, name TEXT, ordinal INTEGER, iat_rva INTEGER, delay_load INTEGER);
CREATE TABLE exports (module_id INTEGER NOT NULL, name TEXT, ordinal INTEGER, rva INTEGER, forwarder TEXT);
CREATE TABLE functions (module_id INTEGER NOT NULL, rva INTEGER, end_rva INTEGER, name TEXT, raw_name TEXT,
  sources TEXT, blocks INTEGER, import_thunk INTEGER, no_return INTEGER, truncated INTEGER, PRIMARY KEY (module_id, rva));
CREATE TABLE chunks (module_id INTEGER NOT NULL, function_rva INTEGER, rva INTEGER, end_rva INTEGER);
CREATE TABLE names (module_id INTEGER NOT NULL, rva INTEGER, name TEXT, raw_name TEXT, source TEXT, recovered INTEGER,
  label INTEGER, PRIMARY KEY (module_id, rva));
CREATE TABLE comments (module_id INTEGER NOT NULL, rva INTEGER, kind TEXT, text TEXT);
CREATE TABLE edges (module_id INTEGER NOT NULL, id INTEGER, kind TEXT, from_rva INTEGER, to_rva INTEGER, to_module TEXT,
  to_module_id INTEGER, to_name TEXT, set_id INTEGER, label TEXT, exactness TEXT, evidence TEXT, detail TEXT,
  PRIMARY KEY (module_id, id));
CREATE TABLE candidate_sets (module_id INTEGER NOT NULL, set_id INTEGER, rva INTEGER);
CREATE TABLE classes (module_id INTEGER NOT NULL, id INTEGER, name TEXT, synthetic INTEGER,
  type_descriptor_rva INTEGER, hierarchy_rva INTEGER, size INTEGER, PRIMARY KEY (module_id, id));
CREATE TABLE class_bases (module_id INTEGER NOT NULL, class_id INTEGER, base_name TEXT, base_id INTEGER, offset INTEGER, virtual INTEGER,
  direct INTEGER);
CREATE TABLE vftables (module_id INTEGER NOT NULL, id INTEGER, rva INTEGER, class_id INTEGER, col_rva INTEGER,
  subobject_offset INTEGER, for_base TEXT, PRIMARY KEY (module_id, id));
CREATE TABLE vftable_slots (module_id INTEGER NOT NULL, vftable_id INTEGER, slot INTEGER, target_rva INTEGER, function_rva INTEGER, kind TEXT,
  pure INTEGER);
CREATE TABLE structors (module_id INTEGER NOT NULL, rva INTEGER, kind TEXT, class_id INTEGER, evidence TEXT);
CREATE TABLE vcalls (module_id INTEGER NOT NULL, site_rva INTEGER, function_rva INTEGER, slot INTEGER, receiver TEXT, receiver_class_id INTEGER,
  set_id INTEGER, narrowing TEXT);
CREATE TABLE vcall_sets (module_id INTEGER NOT NULL, set_id INTEGER, rva INTEGER);
CREATE TABLE static_initializers (module_id INTEGER NOT NULL, entry_rva INTEGER, function_rva INTEGER, object_rva INTEGER,
  constructor_rva INTEGER, class_id INTEGER, atexit_rva INTEGER, destructor_rva INTEGER);
CREATE TABLE eh_functions (module_id INTEGER NOT NULL, rva INTEGER, parent_rva INTEGER, func_info_rva INTEGER, format TEXT, tries INTEGER,
  unwind_states INTEGER, error TEXT);
CREATE TABLE eh_catches (module_id INTEGER NOT NULL, function_rva INTEGER, try_index INTEGER, try_low INTEGER, try_high INTEGER, type TEXT,
  handler_rva INTEGER, name TEXT);
CREATE TABLE eh_unwind (module_id INTEGER NOT NULL, function_rva INTEGER, state INTEGER, to_state INTEGER, action_rva INTEGER,
  destructor_rva INTEGER, name TEXT);
CREATE TABLE eh_throws (module_id INTEGER NOT NULL, site_rva INTEGER, function_rva INTEGER, throw_info_rva INTEGER, type TEXT, rethrow INTEGER);
CREATE TABLE seh_scopes (module_id INTEGER NOT NULL, function_rva INTEGER, begin_rva INTEGER, end_rva INTEGER, filter_rva INTEGER,
  handler_rva INTEGER, target_rva INTEGER, finally INTEGER);
CREATE TABLE unwind (module_id INTEGER NOT NULL, begin_rva INTEGER, end_rva INTEGER, unwind_rva INTEGER, chained INTEGER, prolog_size INTEGER,
  frame_register INTEGER, frame_offset INTEGER, handler_rva INTEGER, handler TEXT);
CREATE TABLE msg_classes (module_id INTEGER NOT NULL, name TEXT, wndproc_rva INTEGER, site_rva INTEGER);
CREATE TABLE msg_procedures (module_id INTEGER NOT NULL, rva INTEGER, kind TEXT, classes TEXT, cxx_class TEXT);
CREATE TABLE msg_cases (module_id INTEGER NOT NULL, procedure_rva INTEGER, message INTEGER, registered_name TEXT, message_text TEXT,
  handler_rva INTEGER, chained_from INTEGER, section INTEGER);
CREATE TABLE msg_windows (module_id INTEGER NOT NULL, site_rva INTEGER, api TEXT, class_name TEXT, title TEXT, dialog_template TEXT,
  proc_rva INTEGER);
CREATE TABLE msg_sends (module_id INTEGER NOT NULL, site_rva INTEGER, function_rva INTEGER, api TEXT, message INTEGER, message_text TEXT,
  target TEXT, target_class TEXT, exact INTEGER);
CREATE TABLE resources (module_id INTEGER NOT NULL, type TEXT, name TEXT, language INTEGER, rva INTEGER, size INTEGER);
CREATE TABLE pdb_symbols (module_id INTEGER NOT NULL, rva INTEGER, name TEXT, raw_name TEXT, is_function INTEGER, size INTEGER);
CREATE TABLE warnings (module_id INTEGER NOT NULL, source TEXT, text TEXT);
)sql";

// The indexes, made after the rows are in (one sort per index instead of a
// b-tree insert per row).
inline constexpr const char *kIndexes = R"sql(
CREATE INDEX edges_from ON edges(module_id, from_rva);
CREATE INDEX edges_to ON edges(module_id, to_rva);
CREATE INDEX edges_kind ON edges(kind);
CREATE INDEX chunks_function ON chunks(module_id, function_rva);
CREATE INDEX candidate_sets_id ON candidate_sets(module_id, set_id);
CREATE INDEX vcall_sets_id ON vcall_sets(module_id, set_id);
)sql";

} // namespace sb::db
