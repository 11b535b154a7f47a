#pragma once
// The outcome of an operation that can fail for reasons a curator can act on (a missing file, a
// locked database, a malformed annotation). Programmer errors are assertions, not Statuses.

#include <string>
#include <utility>

namespace capfilt {

class Status {
 public:
  enum class Code { kOk, kNotFound, kInvalid, kCorrupt, kBusy, kUnsupported, kIoError, kCancelled };

  Status() = default;
  static Status ok() { return Status(); }
  static Status not_found(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
  static Status corrupt(std::string m) { return Status(Code::kCorrupt, std::move(m)); }
  static Status busy(std::string m) { return Status(Code::kBusy, std::move(m)); }
  static Status unsupported(std::string m) { return Status(Code::kUnsupported, std::move(m)); }
  static Status io_error(std::string m) { return Status(Code::kIoError, std::move(m)); }
  static Status cancelled(std::string m) { return Status(Code::kCancelled, std::move(m)); }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  // A sentence naming what failed and where, fit to show a curator. Empty when ok.
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)), has_value_(true) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}            // NOLINT: implicit by design

  bool is_ok() const { return has_value_; }
  explicit operator bool() const { return has_value_; }
  const Status& status() const { return status_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  T value_{};
  Status status_;
  bool has_value_ = false;
};

}  // namespace capfilt
