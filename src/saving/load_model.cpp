#include <fstream>
#include <sstream>

#include "keras/errors.h"
#include "keras/saving.h"

namespace keras {

Model load_model(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext != ".json")
    throw FileError(path.string() + ": unsupported model file type \"" + ext +
                    "\"; this version reads architecture .json files");
  std::ifstream in(path);
  if (!in) throw FileError(path.string() + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  return model_from_json(ss.str(), ConfigContext{.source = path.string()});
}

}  // namespace keras
