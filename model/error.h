#pragma once
// The model library reports failures (a malformed config, checkpoint or vocabulary, a tensor that
// does not fit) by throwing ModelError with a message naming the file and the problem. core/
// catches it, with Torch's own c10::Error, at its boundary and turns both into a Status.

#include <stdexcept>
#include <string>

namespace capfilt::model {

class ModelError : public std::runtime_error {
 public:
  explicit ModelError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace capfilt::model
