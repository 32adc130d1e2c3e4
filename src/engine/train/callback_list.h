#pragma once
// The callbacks of one fit() or evaluate() call (keras/src/callbacks/callback_list.py): the
// user's, then History and the progress bar, each told the model and the run's parameters.
#include <memory>
#include <vector>

#include "keras/callbacks.h"
#include "keras/history.h"
#include "keras/model.h"
#include "utils/progbar.h"

namespace keras::engine {

struct CallbackList {
  std::vector<std::shared_ptr<callbacks::Callback>> items;

  CallbackList(const std::vector<callbacks::CallbackRef>& user, const Model& model, const History::Params& params) {
    for (const callbacks::CallbackRef& c : user) items.push_back(c.ptr());
    for (auto& c : items) {
      c->set_model(model);
      c->set_params(params);
    }
  }
  void add(std::shared_ptr<callbacks::Callback> c, const Model& model, const History::Params& params) {
    c->set_model(model);
    c->set_params(params);
    items.push_back(std::move(c));
  }
  template <class F>
  void each(F f) {
    for (auto& c : items) f(*c);
  }
};

class HistoryCallback : public callbacks::Callback {
 public:
  void on_train_begin(const Logs&) override { history.epoch.clear(); }
  void on_epoch_end(int epoch, Logs& logs) override {
    history.epoch.push_back(epoch);
    for (const auto& [k, v] : logs) history.history[k].push_back(v);
  }
  History history;
};

// The progress bar redraws in place only on a terminal, as Keras's io_utils.
Progbar::Options progbar_options();

}  // namespace keras::engine
