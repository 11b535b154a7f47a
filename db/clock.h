#pragma once
// The time source of the project store. Passed in (never read from a global) so tests can pin it.

#include <cstdint>

namespace capfilt::db {

// Milliseconds since the Unix epoch, UTC. Implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override;
};

}  // namespace capfilt::db
