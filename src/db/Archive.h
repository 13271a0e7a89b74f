// A compact binary archive for the models a project database stores: one
// `io(ar, value)` per type serves both directions. Integers are LEB128
// varints (signed ones zigzag-encoded); a container is its count, then its
// elements. The reader never trusts a count: each element takes at least one
// byte, so a count larger than the bytes left fails at once instead of
// allocating; every read is bounds-checked and a failure sticks.
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sb::db {

class OutArchive {
public:
  static constexpr bool kReading = false;
  void varint(uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(uint8_t(v) | 0x80);
      v >>= 7;
    }
    bytes_.push_back(uint8_t(v));
  }
  void raw(const void *p, size_t n) {
    const auto *b = static_cast<const uint8_t *>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  bool ok() const { return true; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

private:
  std::vector<uint8_t> bytes_;
};

class InArchive {
public:
  static constexpr bool kReading = true;
  explicit InArchive(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t varint() {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && ok_; shift += 7) {
      if (pos_ >= bytes_.size())
        return fail();
      uint8_t b = bytes_[pos_++];
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        return v;
    }
    return fail();
  }
  void raw(void *p, size_t n) {
    if (!ok_ || n > bytes_.size() - pos_) {
      fail();
      return;
    }
    std::memcpy(p, bytes_.data() + pos_, n);
    pos_ += n;
  }
  // A count of elements that follow, each at least one byte long.
  size_t count() {
    uint64_t n = varint();
    if (n > bytes_.size() - pos_)
      return size_t(fail());
    return size_t(n);
  }
  bool ok() const { return ok_; }
  bool atEnd() const { return pos_ == bytes_.size(); }

private:
  uint64_t fail() {
    ok_ = false;
    pos_ = bytes_.size();
    return 0;
  }
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// --- scalars -----------------------------------------------------------------
template <typename Ar, typename T>
  requires(std::is_integral_v<T> || std::is_enum_v<T>)
void io(Ar &ar, T &v) {
  using U = std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>, std::type_identity<T>>::type;
  if constexpr (Ar::kReading) {
    uint64_t raw = ar.varint();
    if constexpr (std::is_signed_v<U>)
      v = T(U(int64_t(raw >> 1) ^ -int64_t(raw & 1)));
    else
      v = T(U(raw));
  } else {
    U u = U(v);
    if constexpr (std::is_signed_v<U>)
      ar.varint((uint64_t(int64_t(u)) << 1) ^ uint64_t(int64_t(u) >> 63));
    else
      ar.varint(uint64_t(u));
  }
}

template <typename Ar>
void io(Ar &ar, std::string &s) {
  if constexpr (Ar::kReading) {
    s.resize(ar.count());
    ar.raw(s.data(), s.size());
  } else {
    ar.varint(s.size());
    ar.raw(s.data(), s.size());
  }
}

// --- containers ----------------------------------------------------------------
template <typename Ar, typename T>
void io(Ar &ar, std::optional<T> &o) {
  bool has = o.has_value();
  io(ar, has);
  if constexpr (Ar::kReading) {
    if (has && ar.ok())
      io(ar, o.emplace());
  } else if (has) {
    io(ar, *o);
  }
}

template <typename Ar, typename A, typename B>
void io(Ar &ar, std::pair<A, B> &p) {
  io(ar, p.first);
  io(ar, p.second);
}

template <typename Ar, typename T>
void io(Ar &ar, std::vector<T> &v) {
  if constexpr (Ar::kReading) {
    v.resize(ar.count());
    for (T &e : v) {
      if (!ar.ok())
        break;
      io(ar, e);
    }
    if (!ar.ok())
      v.clear();
  } else {
    ar.varint(v.size());
    for (T &e : v)
      io(ar, e);
  }
}

template <typename Ar, typename Map>
void ioMap(Ar &ar, Map &m) {
  if constexpr (Ar::kReading) {
    size_t n = ar.count();
    for (size_t i = 0; i < n && ar.ok(); ++i) {
      std::pair<typename Map::key_type, typename Map::mapped_type> kv;
      io(ar, kv);
      m.insert(std::move(kv));
    }
  } else {
    ar.varint(m.size());
    for (auto &[k, v] : m) {
      auto key = k;
      io(ar, key);
      io(ar, v);
    }
  }
}
template <typename Ar, typename K, typename V>
void io(Ar &ar, std::map<K, V> &m) { ioMap(ar, m); }
template <typename Ar, typename K, typename V>
void io(Ar &ar, std::unordered_map<K, V> &m) { ioMap(ar, m); }

template <typename Ar, typename... T>
void ioAll(Ar &ar, T &...v) { (io(ar, v), ...); }

} // namespace sb::db

// Declares io() for an aggregate by naming every member in declaration order
// (a structured binding: a struct that gains a member and not its name here
// no longer compiles, so the stored form cannot silently drop a field).
#define SB_ARCHIVE_FIELDS(Type, ...)                                                                                  \
  template <typename Ar>                                                                                               \
  void io(Ar &ar, Type &value) {                                                                                       \
    auto &[__VA_ARGS__] = value;                                                                                       \
    ::sb::db::ioAll(ar, __VA_ARGS__);                                                                                  \
  }
