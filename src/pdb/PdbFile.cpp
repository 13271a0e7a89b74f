#include "PdbFile.h"

#include <fmt/format.h>
#include <llvm/DebugInfo/MSF/MSFCommon.h>
#include <llvm/DebugInfo/MSF/MappedBlockStream.h>
#include <llvm/DebugInfo/PDB/Native/RawConstants.h>
#include <llvm/Support/BinaryByteStream.h>
#include <llvm/Support/BinaryStreamReader.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

#include <cstring>
#include <optional>

namespace sb::pdb {
namespace {

constexpr uint32_t kNilStreamSize = 0xFFFFFFFF;

uint32_t u32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The MSF container in memory (a private, copy-on-write mapping) where the
// checks below may rewrite it.
class Container {
public:
  explicit Container(llvm::MutableArrayRef<char> bytes)
      : data_(reinterpret_cast<uint8_t *>(bytes.data())), size_(bytes.size()) {}

  // nullopt when the superblock is fit to hand to LLVM (which reports the
  // faults it does check: magic, block size, directory placement).
  std::optional<std::string> check() {
    if (size_ < sizeof(llvm::msf::SuperBlock) || std::memcmp(data_, llvm::msf::Magic, sizeof(llvm::msf::Magic)) != 0)
      return std::nullopt;
    blockSize_ = u32(data_ + 32);
    numBlocks_ = u32(data_ + 40);
    if (!llvm::msf::isValidBlockSize(blockSize_))
      return std::nullopt;
    // LLVM sizes its free-block bitmap by this count before comparing it
    // with the file: a damaged count costs up to 512 MB.
    if (uint64_t(blockSize_) * numBlocks_ > size_)
      return fmt::format("the MSF superblock claims {} blocks of {} bytes, more than the file's {} bytes",
                         numBlocks_, blockSize_, size_);
    return checkDirectory();
  }

private:
  // The directory byte at offset, through the block map; null past the file.
  uint8_t *directoryByte(uint32_t offset) const {
    uint32_t dirBytes = u32(data_ + 44);
    uint64_t map = uint64_t(u32(data_ + 52)) * blockSize_;
    uint64_t slot = map + 4ull * (offset / blockSize_);
    if (offset >= dirBytes || slot + 4 > size_)
      return nullptr;
    uint64_t at = uint64_t(u32(data_ + slot)) * blockSize_ + offset % blockSize_;
    return at + 4 <= size_ ? data_ + at : nullptr;
  }

  // Nil streams have size 0xFFFFFFFF. LLVM gives such a stream no blocks but
  // keeps that length, so reading one (through a damaged stream index) reads
  // through a null block list: they become empty streams here. LLVM does not
  // check the streams' block numbers either, and its fixed-size record arrays
  // read a failed block as a null pointer: a block past the file is refused.
  std::optional<std::string> checkDirectory() {
    uint8_t *count = directoryByte(0);
    if (!count)
      return std::nullopt;   // LLVM reports an unreadable directory
    uint32_t streams = u32(count);
    uint64_t entry = 4 + 4ull * streams;   // the first block number
    if (entry > u32(data_ + 44))
      return std::nullopt;   // more sizes than the directory holds: LLVM reports it
    for (uint32_t i = 0; i < streams; ++i) {
      uint8_t *sizeField = directoryByte(4 + 4 * i);   // 4-aligned: never split across blocks
      if (!sizeField)
        return std::nullopt;
      if (u32(sizeField) == kNilStreamSize)
        std::memset(sizeField, 0, 4);
      uint64_t blocks = (uint64_t(u32(sizeField)) + blockSize_ - 1) / blockSize_;
      for (uint64_t b = 0; b < blocks; ++b, entry += 4) {
        uint8_t *block = entry <= UINT32_MAX ? directoryByte(uint32_t(entry)) : nullptr;
        if (!block)
          return std::nullopt;
        if (u32(block) >= numBlocks_)
          return fmt::format("stream {} lists block {}, past the file's {} blocks", i, u32(block), numBlocks_);
      }
    }
    return std::nullopt;
  }

  uint8_t *data_;
  uint64_t size_;
  uint32_t blockSize_ = 0, numBlocks_ = 0;
};

bool succeeded(llvm::Error e) {
  bool failed = bool(e);
  llvm::consumeError(std::move(e));
  return !failed;
}

// LLVM sizes the info stream's named-stream hash table by the capacity the
// file states, before reading a bucket: a damaged PDB could make it allocate
// gigabytes. Real tables hold a handful of names.
std::optional<std::string> infoTableTooLarge(llvm::pdb::PDBFile &file) {
  constexpr uint32_t kMaxCapacity = 1u << 20;
  auto stream = file.safelyCreateIndexedStream(llvm::pdb::StreamPDB);
  if (!stream) {
    llvm::consumeError(stream.takeError());
    return std::nullopt;   // LLVM reports a missing info stream
  }
  llvm::BinaryStreamReader r(**stream);
  uint32_t namesSize = 0, size = 0, capacity = 0;
  // Version, signature, age, GUID; the names buffer; the table's size and capacity.
  if (!succeeded(r.skip(28)) || !succeeded(r.readInteger(namesSize)) || !succeeded(r.skip(namesSize)) ||
      !succeeded(r.readInteger(size)) || !succeeded(r.readInteger(capacity)))
    return std::nullopt;
  if (capacity > kMaxCapacity)
    return fmt::format("the info stream's name table claims {} entries", capacity);
  return std::nullopt;
}

} // namespace

Expected<OpenPdb> openPdb(const std::string &path) {
  auto buffer = llvm::WritableMemoryBuffer::getFile(path);
  if (!buffer)
    return makeError(fmt::format("cannot read {}: {}", path, buffer.getError().message()));
  std::string fail = path + " is not a readable PDB: ";
  if (auto why = Container((*buffer)->getBuffer()).check())
    return makeError(fail + *why);
  OpenPdb pdb;
  pdb.allocator = std::make_unique<llvm::BumpPtrAllocator>();
  auto stream = std::make_unique<llvm::MemoryBufferByteStream>(std::move(*buffer), llvm::support::little);
  pdb.file = std::make_unique<llvm::pdb::PDBFile>(path, std::move(stream), *pdb.allocator);
  if (auto e = pdb.file->parseFileHeaders())
    return makeError(fail + llvm::toString(std::move(e)));
  if (auto e = pdb.file->parseStreamData())
    return makeError(fail + llvm::toString(std::move(e)));
  if (auto why = infoTableTooLarge(*pdb.file))
    return makeError(fail + *why);
  return pdb;
}

} // namespace sb::pdb
