#include "ReadobjUnwind.h"

#include "TestSupport.h"
#include "switchboard/unwind/UnwindInfo.h"

#include <fmt/format.h>
#include <cstring>
#include <sstream>

namespace sb::test {
namespace {
std::string trim(const std::string &s) {
  size_t a = s.find_first_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a);
}
uint64_t hexIn(const std::string &s) {
  size_t p = s.find("0x");
  return p == std::string::npos ? 0 : std::stoull(s.substr(p + 2), nullptr, 16);
}
std::string upper(std::string s) {
  for (char &c : s)
    c = char(std::toupper((unsigned char)c));
  return s;
}
// One code in a form both sides can produce: "offs OP operands".
std::string canonical(const unwind::UnwindCode &c, const unwind::UnwindInfo &u) {
  std::string op = std::string(unwind::unwindOpName(c.op, u.version)).substr(5);   // drop "UWOP_"
  switch (c.op) {
  case unwind::kPushNonvol: return fmt::format("{:02X} {} {}", c.prologOffset, op, upper(unwind::registerName(c.reg)));
  case unwind::kAllocLarge:
  case unwind::kAllocSmall: return fmt::format("{:02X} {} {}", c.prologOffset, op, c.value);
  case unwind::kSetFpreg:
    return fmt::format("{:02X} {} {} {:X}", c.prologOffset, op, upper(unwind::registerName(u.frameRegister)),
                       u.frameOffsetBytes());
  case unwind::kSaveNonvol:
  case unwind::kSaveNonvolFar:
    return fmt::format("{:02X} {} {} {:X}", c.prologOffset, op, upper(unwind::registerName(c.reg)), c.value);
  case unwind::kSaveXmm128:
  case unwind::kSaveXmm128Far: return fmt::format("{:02X} {} XMM{} {:X}", c.prologOffset, op, c.reg, c.value);
  case unwind::kPushMachframe: return fmt::format("{:02X} {} {}", c.prologOffset, op, c.info ? "yes" : "no");
  default: return fmt::format("{:02X} {}", c.prologOffset, op);
  }
}
} // namespace

std::optional<UnwindView> readobjUnwind(const std::string &path, uint64_t imageBase) {
  std::string out;
  if (runCommand("llvm-readobj-16 --unwind '" + path + "' 2>/dev/null", &out) != 0)
    return std::nullopt;
  UnwindView v;
  std::istringstream in(out);
  std::string line;
  int depth = -1;   // nesting inside the current RuntimeFunction
  uint64_t start = 0, end = 0, unwind = 0;
  int version = 0, flags = 0, prolog = 0;
  std::string frameReg, frameOff;
  std::vector<std::string> codes;
  bool inCodes = false, codesDone = false;
  auto flush = [&]() {
    if (version == 1) {
      std::string s = fmt::format("{:x} {:x} v{} f{:x} p{:x} {} {} |", end - imageBase, unwind - imageBase, version,
                                  flags, prolog, frameReg, frameOff);
      for (const auto &c : codes)
        s += " " + c + ";";
      v.entries[uint32_t(start - imageBase)] = s;
    }
  };
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t == "RuntimeFunction {") {
      depth = 0;
      start = end = unwind = 0;
      version = flags = prolog = 0;
      frameReg = frameOff = "-";
      codes.clear();
      inCodes = codesDone = false;
      continue;
    }
    if (depth < 0)
      continue;
    if (!t.empty() && t.back() == '{')
      ++depth;
    else if (!t.empty() && t.back() == '[' && t.rfind("UnwindCodes", 0) == 0 && !codesDone)
      inCodes = true;
    else if (t == "]" && inCodes)
      inCodes = false, codesDone = true;
    else if (t == "}") {
      if (depth == 0) {
        flush();
        depth = -1;
      } else {
        --depth;
      }
    } else if (inCodes && t.rfind("0x", 0) == 0) {
      // "0x10: SAVE_XMM128 reg=XMM6, offset=0x30"
      std::string off = t.substr(2, 2);
      std::string rest = t.substr(t.find(':') + 2);
      std::string op = rest.substr(0, rest.find(' '));
      std::string c = off + " " + op;
      auto field = [&](const char *name) -> std::string {
        size_t p = rest.find(name);
        if (p == std::string::npos)
          return "";
        std::string val = rest.substr(p + std::strlen(name));
        return val.substr(0, val.find(','));
      };
      if (op == "PUSH_NONVOL")
        c += " " + field("reg=");
      else if (op == "ALLOC_SMALL" || op == "ALLOC_LARGE")
        c += " " + field("size=");
      else if (op == "SET_FPREG" || op == "SAVE_NONVOL" || op == "SAVE_NONVOL_FAR" || op == "SAVE_XMM128" ||
               op == "SAVE_XMM128_FAR")
        c += " " + field("reg=") + " " + fmt::format("{:X}", hexIn(field("offset=")));
      else if (op == "PUSH_MACHFRAME")
        c += " " + field("errcode=");
      codes.push_back(c);
    } else if (depth == 0 && t.rfind("StartAddress:", 0) == 0)
      start = hexIn(t.substr(t.rfind('(')));
    else if (depth == 0 && t.rfind("EndAddress:", 0) == 0)
      end = hexIn(t.substr(t.rfind('(')));
    else if (depth == 0 && t.rfind("UnwindInfoAddress:", 0) == 0)
      unwind = hexIn(t.substr(t.rfind('(')));
    else if (depth == 1 && t.rfind("Version:", 0) == 0)
      version = std::stoi(t.substr(9));
    else if (depth == 1 && t.rfind("Flags [", 0) == 0)
      flags = int(hexIn(t));
    else if (depth == 1 && t.rfind("PrologSize:", 0) == 0)
      prolog = std::stoi(t.substr(12));
    else if (depth == 1 && t.rfind("FrameRegister:", 0) == 0)
      frameReg = t.substr(15, t.find(' ', 15) - 15);
    else if (depth == 1 && t.rfind("FrameOffset:", 0) == 0)
      frameOff = t.substr(13) == "-" ? "-" : fmt::format("{:X}", hexIn(t) * 16);
  }
  return v;
}

UnwindView modelUnwind(const pe::PeImage &img) {
  UnwindView v;
  for (const pe::RuntimeFunction &rf : img.runtimeFunctions()) {
    if (rf.indirect)
      continue;
    auto u = unwind::decodeUnwindInfo(img, rf.unwindRva);
    if (!u || u->version != 1)
      continue;
    std::string s = fmt::format("{:x} {:x} v{} f{:x} p{:x} {} {} |", rf.end, rf.unwindRva, u->version, u->flags,
                                u->prologSize, u->frameRegister ? upper(unwind::registerName(u->frameRegister)) : "-",
                                u->frameRegister ? fmt::format("{:X}", u->frameOffsetBytes()) : "-");
    for (const auto &c : u->codes)
      s += fmt::format(" {};", canonical(c, *u));
    v.entries[rf.begin] = s;
  }
  return v;
}

} // namespace sb::test
