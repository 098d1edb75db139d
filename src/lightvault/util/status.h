#pragma once
// Errors as values. A failed operation returns an Error whose message already carries its
// context in the form the CLI prints: "FILE: what is wrong (field/offset)".
#include <string>
#include <utility>
#include <variant>

namespace lv {

struct Error {
  std::string message;
};

// Builds an Error; `context` (usually the file or request) is put in front of the message.
inline Error make_error(const std::string& context, const std::string& what) {
  return Error{context.empty() ? what : context + ": " + what};
}

// Either a T or an E. Accessing value() of an error is a programming bug (asserts).
template <class T, class E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(E error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  // By value: `for (auto& x : f().value())` must not refer into the destroyed temporary.
  T value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Either a T or an Error.
template <class T>
using Result = Expected<T, Error>;

// Success or an Error, for operations that return nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace lv

// Propagates an error from an expression that yields a Status or Result.
#define LV_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    auto lv_status_ = (expr);                       \
    if (!lv_status_.ok()) return lv_status_.error(); \
  } while (0)

#define LV_CONCAT_INNER(a, b) a##b
#define LV_CONCAT(a, b) LV_CONCAT_INNER(a, b)
// `LV_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its error.
#define LV_ASSIGN_OR_RETURN(lhs, expr) LV_ASSIGN_OR_RETURN_IMPL(LV_CONCAT(lv_result_, __LINE__), lhs, expr)
#define LV_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.error();             \
  lhs = std::move(tmp).value()
