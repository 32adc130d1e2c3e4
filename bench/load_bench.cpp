// How long does loading a ~100 MB model file take, next to reading its bytes from disk, and how
// much memory does it need next to the weights' size? (Issue 3's file-loading target.)
//
//   build/bench/load_bench [--size-mb 100] [--dir /tmp] [--repeat 5]
//
// Each measurement runs in a fresh child process, so peak memory (ru_maxrss) is its own; the
// file is read once first so every run finds it in the page cache.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <keras/keras.h>
#include <string>
#include <vector>

using namespace keras;
namespace fs = std::filesystem;

namespace {

struct Sample {
  double seconds = 0;
  double peak_mb = 0;
};

std::vector<char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary | std::ios::ate);
  std::vector<char> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

// The measured work, in a process of its own: "noop", "read" or "load" of `path`.
int child(const std::string& mode, const fs::path& path) {
  auto t0 = std::chrono::steady_clock::now();
  if (mode == "read") read_bytes(path);
  if (mode == "load") load_model(path);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("%.6f %ld\n", s, ru.ru_maxrss);
  return 0;
}

Sample run_child(const std::string& self, const std::string& mode, const fs::path& path) {
  std::string cmd = "'" + self + "' --child " + mode + " '" + path.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  Sample s;
  long kb = 0;
  if (!p || std::fscanf(p, "%lf %ld", &s.seconds, &kb) != 2) throw std::runtime_error("child failed: " + cmd);
  pclose(p);
  s.peak_mb = static_cast<double>(kb) / 1024.0;
  return s;
}

Sample best_of(int repeat, const std::string& self, const std::string& mode, const fs::path& path) {
  Sample best{1e30, 1e30};
  for (int i = 0; i < repeat; ++i) {
    Sample s = run_child(self, mode, path);
    best.seconds = std::min(best.seconds, s.seconds);
    best.peak_mb = std::min(best.peak_mb, s.peak_mb);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--child") return child(argv[2], argv[3]);
  double size_mb = 100;
  fs::path dir = fs::temp_directory_path();
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--size-mb") size_mb = std::stod(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
  }
  std::string self = fs::canonical("/proc/self/exe").string();
  // One square Dense layer: n*n + n floats ~ size_mb.
  Dim n = static_cast<Dim>(std::sqrt(size_mb * 1024 * 1024 / 4));
  double weights_mb = 0;
  std::vector<fs::path> files = {dir / "load_bench_model.keras", dir / "load_bench_model.h5"};
  {
    Sequential model({Input({n}), layers::Dense(n)});
    weights_mb = static_cast<double>(model.count_params()) * 4 / (1024 * 1024);
    for (const auto& f : files) model.save(f);
  }
  Sample baseline = best_of(repeat, self, "noop", files[0]);
  std::printf("weights: %.1f MB (Dense %lld x %lld); process baseline %.1f MB; best of %d\n\n", weights_mb,
              static_cast<long long>(n), static_cast<long long>(n), baseline.peak_mb, repeat);
  std::printf("| file | size on disk | read bytes | load_model | ratio | peak memory above baseline | / weights |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& path : files) {
    read_bytes(path);  // warm the page cache
    Sample raw = best_of(repeat, self, "read", path);
    Sample load = best_of(repeat, self, "load", path);
    double above = load.peak_mb - baseline.peak_mb;
    std::printf("| %s | %.1f MB | %.3f s | %.3f s | %.2fx | %.1f MB | %.2fx |\n", path.extension().c_str(),
                static_cast<double>(fs::file_size(path)) / (1024 * 1024), raw.seconds, load.seconds,
                load.seconds / raw.seconds, above, above / weights_mb);
    fs::remove(path);
  }
}
