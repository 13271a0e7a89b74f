// Poison: searched before the system headers by the targets that must not
// reach Zydis (every public header compiled alone, tests/CMakeLists.txt; the
// CLI, tools/switchboard/CMakeLists.txt), so an include of it fails there.
#error "<Zydis/Zydis.h> reached from the public API or the CLI: Zydis belongs behind src/ (private headers)"
