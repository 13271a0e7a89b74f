// Poison: searched before the system headers when the public headers are
// compiled alone (tests/CMakeLists.txt), so a public header that reaches
// Zydis fails to compile.
#error "a public switchboard header includes <Zycore/Types.h>: Zydis belongs in src/ (private headers)"
