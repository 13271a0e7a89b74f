// Bounds-checked little-endian reads from a byte span. Every accessor either
// returns the value or std::nullopt; nothing here trusts an offset.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

namespace sb {

class ByteReader {
public:
  ByteReader() = default;
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t size() const { return data_.size(); }
  std::span<const uint8_t> data() const { return data_; }

  bool has(uint64_t offset, uint64_t length) const {
    return offset <= data_.size() && length <= data_.size() - offset;
  }

  template <typename T>
  std::optional<T> read(uint64_t offset) const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!has(offset, sizeof(T)))
      return std::nullopt;
    T value;
    std::memcpy(&value, data_.data() + offset, sizeof(T));
    return value;
  }

  std::optional<uint8_t> u8(uint64_t off) const { return read<uint8_t>(off); }
  std::optional<uint16_t> u16(uint64_t off) const { return read<uint16_t>(off); }
  std::optional<uint32_t> u32(uint64_t off) const { return read<uint32_t>(off); }
  std::optional<uint64_t> u64(uint64_t off) const { return read<uint64_t>(off); }

  std::optional<std::span<const uint8_t>> bytes(uint64_t offset, uint64_t length) const {
    if (!has(offset, length))
      return std::nullopt;
    return data_.subspan(offset, length);
  }

  // A NUL-terminated string of at most maxLength bytes. Returns nullopt when the
  // offset is out of range or no terminator is found within the limit.
  std::optional<std::string> cstring(uint64_t offset, size_t maxLength = 4096) const {
    if (offset >= data_.size())
      return std::nullopt;
    size_t avail = data_.size() - offset;
    size_t limit = avail < maxLength ? avail : maxLength;
    const void *nul = std::memchr(data_.data() + offset, 0, limit);
    if (!nul)
      return std::nullopt;
    return std::string(reinterpret_cast<const char *>(data_.data() + offset),
                       static_cast<const uint8_t *>(nul) - (data_.data() + offset));
  }

private:
  std::span<const uint8_t> data_;
};

} // namespace sb
