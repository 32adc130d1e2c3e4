#pragma once
// Typed errors. Messages follow Keras's wording and name the file, layer and shapes involved.
#include <stdexcept>
#include <string>

namespace keras {

// Base of every error the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Keras's ValueError: arguments or shapes that do not fit.
class ValueError : public Error {
 public:
  using Error::Error;
};

// A file that cannot be read, written, or does not hold what it should.
class FileError : public Error {
 public:
  using Error::Error;
};

// A model uses layer classes the library cannot run; the message lists all of them.
class UnsupportedLayers : public Error {
 public:
  using Error::Error;
};

// A feature Keras has that this library does not implement (yet); the message says which.
class NotImplementedError : public Error {
 public:
  using Error::Error;
};

}  // namespace keras
