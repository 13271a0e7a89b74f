// The minidump model's lookups: memory by address, threads, modules, names.
#include "switchboard/dump/Minidump.h"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sb::dump {

Expected<Minidump> Minidump::parse(std::vector<uint8_t> bytes) {
  auto owner = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return parseOwned(owner, std::span<const uint8_t>(*owner));
}

Expected<Minidump> Minidump::load(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return makeError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    ::close(fd);
    return makeError(fmt::format("{}: not a readable minidump: empty or not a regular file", path));
  }
  const size_t size = size_t(st.st_size);
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    return makeError(fmt::format("{}: cannot map: {}", path, std::strerror(errno)));
  std::shared_ptr<const void> owner(map, [size](const void *p) { ::munmap(const_cast<void *>(p), size); });
  auto d = parseOwned(owner, std::span<const uint8_t>(static_cast<const uint8_t *>(map), size));
  if (!d)
    return makeError(fmt::format("{}: {}", path, d.error()));
  return d;
}

std::string ModuleRecord::fileName() const {
  const size_t slash = path.find_last_of("\\/");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const ThreadRecord *Minidump::thread(uint32_t id) const {
  for (const ThreadRecord &t : threads_)
    if (t.id == id)
      return &t;
  return nullptr;
}

const ModuleRecord *Minidump::moduleContaining(uint64_t va) const {
  auto it = std::upper_bound(modules_.begin(), modules_.end(), va,
                             [](uint64_t v, const ModuleRecord &m) { return v < m.base; });
  if (it == modules_.begin())
    return nullptr;
  --it;
  return it->contains(va) ? &*it : nullptr;
}

std::span<const uint8_t> Minidump::bytesAt(uint64_t va) const {
  auto it = std::upper_bound(memory_.begin(), memory_.end(), va,
                             [](uint64_t v, const MemoryRange &m) { return v < m.address; });
  if (it == memory_.begin())
    return {};
  --it;
  if (va - it->address >= it->size)
    return {};
  const uint64_t skip = va - it->address;
  return bytes_.subspan(it->fileOffset + skip, it->size - skip);
}

bool Minidump::read(uint64_t va, void *out, size_t length) const {
  auto *to = static_cast<uint8_t *>(out);
  while (length) {
    std::span<const uint8_t> have = bytesAt(va);
    if (have.empty())
      return false;
    const size_t n = std::min(length, have.size());
    std::memcpy(to, have.data(), n);
    to += n, va += n, length -= n;
  }
  return true;
}

const char *exceptionCodeName(uint32_t code) {
  switch (code) {
  case 0x80000003: return "EXCEPTION_BREAKPOINT";
  case 0x80000004: return "EXCEPTION_SINGLE_STEP";
  case 0x80000001: return "EXCEPTION_GUARD_PAGE";
  case 0xC0000005: return "EXCEPTION_ACCESS_VIOLATION";
  case 0xC0000006: return "EXCEPTION_IN_PAGE_ERROR";
  case 0xC000001D: return "EXCEPTION_ILLEGAL_INSTRUCTION";
  case 0xC0000025: return "EXCEPTION_NONCONTINUABLE_EXCEPTION";
  case 0xC0000026: return "EXCEPTION_INVALID_DISPOSITION";
  case 0xC000008C: return "EXCEPTION_ARRAY_BOUNDS_EXCEEDED";
  case 0xC000008D: return "EXCEPTION_FLT_DENORMAL_OPERAND";
  case 0xC000008E: return "EXCEPTION_FLT_DIVIDE_BY_ZERO";
  case 0xC0000094: return "EXCEPTION_INT_DIVIDE_BY_ZERO";
  case 0xC0000095: return "EXCEPTION_INT_OVERFLOW";
  case 0xC0000096: return "EXCEPTION_PRIV_INSTRUCTION";
  case 0xC00000FD: return "EXCEPTION_STACK_OVERFLOW";
  case 0xC0000374: return "STATUS_HEAP_CORRUPTION";
  case 0xC0000409: return "STATUS_STACK_BUFFER_OVERRUN";
  case 0xC0000602: return "STATUS_FAIL_FAST_EXCEPTION";
  case 0xE06D7363: return "C++ exception";
  case 0x406D1388: return "MS_VC_EXCEPTION (thread name)";
  case 0x40010006: return "DBG_PRINTEXCEPTION_C";
  case 0x4001000A: return "DBG_PRINTEXCEPTION_WIDE_C";
  default: return nullptr;
  }
}

} // namespace sb::dump
