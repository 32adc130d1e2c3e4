#include "engine/train/callback_list.h"

namespace keras::engine {

Progbar::Options progbar_options() {
  Progbar::Options o;
  o.dynamic_display = stdout_is_terminal();
  return o;
}

}  // namespace keras::engine
