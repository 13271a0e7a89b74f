// Expected<T>: a value or an error message, in the style of llvm::Expected but
// without its "must check" machinery. Parsers return it instead of throwing.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace sb {

struct Error {
  std::string message;
};

inline Error makeError(std::string message) { return Error{std::move(message)}; }

template <typename T>
class Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}

  explicit operator bool() const { return v_.index() == 0; }
  T &operator*() { return std::get<0>(v_); }
  const T &operator*() const { return std::get<0>(v_); }
  T *operator->() { return &std::get<0>(v_); }
  const T *operator->() const { return &std::get<0>(v_); }
  const std::string &error() const { return std::get<1>(v_).message; }
  T take() { return std::move(std::get<0>(v_)); }

private:
  std::variant<T, Error> v_;
};

} // namespace sb
