// The minidump reader. LLVM's object::MinidumpFile reads the header, the
// stream directory and the streams it knows; every offset and count it hands
// over is checked again here before it is used. The streams LLVM 16 does not
// parse are read by Streams.cpp. This file is built without RTTI, like LLVM.
#include "dump/Streams.h"

#include "switchboard/dump/Minidump.h"

#include <llvm/Object/Minidump.h>

#include <algorithm>
#include <fmt/format.h>

namespace sb::dump {

namespace mdmp = llvm::minidump;

class MinidumpParser {
public:
  MinidumpParser(Minidump &d, const llvm::object::MinidumpFile &f) : d_(d), f_(f) {}

  void run() {
    d_.timeDateStamp_ = f_.header().TimeDateStamp;
    d_.flags_ = f_.header().Flags;
    readSystemInfo();
    readMemory();
    readModules();
    readThreads();
    readException();
    StreamReader streams(d_.bytes_, d_.warnings_);
    if (auto s = f_.getRawStream(mdmp::StreamType::MemoryInfoList))
      d_.regions_ = streams.memoryInfo(*s);
    if (auto s = f_.getRawStream(mdmp::StreamType::HandleData))
      d_.handles_ = streams.handles(*s);
    if (auto s = f_.getRawStream(mdmp::StreamType::ThreadInfoList))
      for (const ThreadInfo &t : streams.threadInfo(*s))
        if (ThreadRecord *r = thread(t.id))
          r->startAddress = t.startAddress;
    if (auto s = f_.getRawStream(mdmp::StreamType(kThreadNamesStream)))
      for (auto &[id, name] : streams.threadNames(*s))
        if (ThreadRecord *r = thread(id))
          r->name = std::move(name);
  }

private:
  void warn(std::string message) { d_.warnings_.push_back(std::move(message)); }

  template <typename T>
  bool consume(llvm::Expected<T> &e, const char *what) {
    if (e)
      return true;
    std::string message = llvm::toString(e.takeError());
    if (message.find("No such stream") == std::string::npos)   // a missing stream is no damage
      warn(fmt::format("{}: {}", what, message));
    return false;
  }

  std::span<const uint8_t> raw(mdmp::LocationDescriptor at) {
    auto data = f_.getRawData(at);
    if (!data) {
      llvm::consumeError(data.takeError());
      return {};
    }
    return {data->data(), data->size()};
  }

  std::string string(uint32_t rva, const char *what) {
    auto s = f_.getString(rva);
    if (!s) {
      warn(fmt::format("{} name at file offset {:#x}: {}", what, rva, llvm::toString(s.takeError())));
      return {};
    }
    return *s;
  }

  void readSystemInfo() {
    auto info = f_.getSystemInfo();
    if (!consume(info, "system info"))
      return warn("the dump has no system info; its architecture is unknown");
    const uint16_t arch = uint16_t(mdmp::ProcessorArchitecture(info->ProcessorArch));
    d_.processorArchitecture_ = arch;
    d_.arch_ = arch == 0 ? Arch::X86 : arch == 9 ? Arch::X64 : arch == 12 ? Arch::Arm64 : Arch::Other;
    d_.osMajor_ = info->MajorVersion;
    d_.osMinor_ = info->MinorVersion;
    d_.osBuild_ = info->BuildNumber;
  }

  void readMemory() {
    std::vector<MemoryRange> ranges;
    auto list = f_.getMemoryList();
    if (consume(list, "memory list"))
      for (const mdmp::MemoryDescriptor &m : *list) {
        const uint64_t size = m.Memory.DataSize, offset = m.Memory.RVA;
        if (offset + size > d_.bytes_.size()) {
          warn(fmt::format("memory range {:#x}: its {} bytes lie outside the file", uint64_t(m.StartOfMemoryRange), size));
          continue;
        }
        ranges.push_back({m.StartOfMemoryRange, size, offset, false});
      }
    if (auto s = f_.getRawStream(mdmp::StreamType::Memory64List)) {
      StreamReader streams(d_.bytes_, d_.warnings_);
      std::vector<MemoryRange> full = streams.memory64(*s);
      d_.fullMemory_ = !full.empty();
      ranges.insert(ranges.end(), full.begin(), full.end());
    }
    d_.memory_ = disjointRanges(std::move(ranges), d_.warnings_);
  }

  void readModules() {
    auto list = f_.getModuleList();
    if (!consume(list, "module list"))
      return;
    for (const mdmp::Module &m : *list) {
      ModuleRecord r;
      r.path = string(m.ModuleNameRVA, "module");
      r.base = m.BaseOfImage;
      r.size = m.SizeOfImage;
      r.checksum = m.Checksum;
      r.timeDateStamp = m.TimeDateStamp;
      if (m.CvRecord.DataSize)
        r.codeView = parseCodeView(raw(m.CvRecord));
      d_.modules_.push_back(std::move(r));
    }
    std::sort(d_.modules_.begin(), d_.modules_.end(),
              [](const ModuleRecord &a, const ModuleRecord &b) { return a.base < b.base; });
    for (size_t i = 1; i < d_.modules_.size(); ++i)
      if (d_.modules_[i].base < d_.modules_[i - 1].base + d_.modules_[i - 1].size)
        warn(fmt::format("modules {} and {} overlap", d_.modules_[i - 1].path, d_.modules_[i].path));
  }

  void readThreads() {
    auto list = f_.getThreadList();
    if (!consume(list, "thread list"))
      return;
    for (const mdmp::Thread &t : *list) {
      ThreadRecord r;
      r.id = t.ThreadId;
      r.suspendCount = t.SuspendCount;
      r.priorityClass = t.PriorityClass;
      r.priority = t.Priority;
      r.teb = t.EnvironmentBlock;
      r.stackStart = t.Stack.StartOfMemoryRange;
      r.stackSize = t.Stack.Memory.DataSize;
      r.context = decodeContext(d_.arch_, raw(t.Context));
      if (!r.context.valid)
        warn(fmt::format("thread {:#x}: its context is unreadable", r.id));
      d_.threads_.push_back(std::move(r));
    }
  }

  void readException() {
    auto e = f_.getExceptionStream();
    if (!consume(e, "exception stream"))
      return;
    ExceptionRecord r;
    r.threadId = e->ThreadId;
    const mdmp::Exception &x = e->ExceptionRecord;
    r.code = x.ExceptionCode;
    r.flags = x.ExceptionFlags;
    r.address = x.ExceptionAddress;
    const uint32_t n = std::min<uint32_t>(x.NumberParameters, mdmp::Exception::MaxParameters);
    if (x.NumberParameters > n)
      warn(fmt::format("exception record: {} parameters claimed, at most 15 kept", uint32_t(x.NumberParameters)));
    for (uint32_t i = 0; i < n; ++i)
      r.parameters.push_back(x.ExceptionInformation[i]);
    r.context = decodeContext(d_.arch_, raw(e->ThreadContext));
    d_.exception_ = std::move(r);
  }

  ThreadRecord *thread(uint32_t id) { return const_cast<ThreadRecord *>(d_.thread(id)); }

  Minidump &d_;
  const llvm::object::MinidumpFile &f_;
};

Expected<Minidump> Minidump::parseOwned(std::shared_ptr<const void> owner, std::span<const uint8_t> bytes) {
  Minidump d;
  d.owner_ = std::move(owner);
  d.bytes_ = bytes;
  llvm::MemoryBufferRef ref(llvm::StringRef(reinterpret_cast<const char *>(bytes.data()), bytes.size()), "minidump");
  auto file = llvm::object::MinidumpFile::create(ref);
  if (!file)
    return makeError(fmt::format("not a readable minidump: {}", llvm::toString(file.takeError())));
  MinidumpParser(d, **file).run();
  return d;
}

} // namespace sb::dump
