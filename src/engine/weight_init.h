#pragma once
// Loading a model from a file overwrites every weight, so running the initializers first
// (random draws, orthogonal matrices) would only cost time: the file readers hold a
// SkipInitializers while they build the model, and new weights start as zeros instead.
namespace keras::engine {

class SkipInitializers {
 public:
  SkipInitializers() { ++depth(); }
  ~SkipInitializers() { --depth(); }
  SkipInitializers(const SkipInitializers&) = delete;
  SkipInitializers& operator=(const SkipInitializers&) = delete;

  // True while one is alive on this thread.
  static bool active() { return depth() > 0; }

 private:
  static int& depth() {
    thread_local int d = 0;
    return d;
  }
};

}  // namespace keras::engine
