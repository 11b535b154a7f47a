#include "core/torch/train_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/training_job.h"
#include "model/error.h"
#include "model/hf_import.h"

namespace capfilt::core {
namespace internal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld", static_cast<long long>(step));
  return buf;
}

void sync_tree(const fs::path& folder) {
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file()) sync_path(entry.path().string());
  }
  sync_path(folder.string());
}

std::vector<fs::path> complete_checkpoints(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0 &&
        fs::exists(entry.path() / "state.json")) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());  // zero-padded names sort by step
  return out;
}

}  // namespace

void sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw model::ModelError(path + ": cannot open to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw model::ModelError(path + ": fsync failed (disk full or failing?)");
}

std::string write_training_checkpoint(const std::string& job_dir, const model::Blip& model,
                                      const model::NamedTensors& training_state,
                                      const CheckpointPosition& position, int64_t keep) {
  const fs::path dir = fs::path(job_dir) / "checkpoints";
  const fs::path final_path = dir / step_name(position.step);
  const fs::path tmp = dir / (".tmp-" + step_name(position.step));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw model::ModelError(dir.string() + ": cannot create: " + ec.message());
  if (fs::exists(final_path / "state.json")) return final_path.string();  // already written
  fs::remove_all(tmp, ec);
  try {
    model::save_checkpoint(model, tmp.string());
    model::save_safetensors((tmp / "training_state.safetensors").string(), training_state);
    json state = {{"step", position.step},
                  {"epoch", position.epoch},
                  {"position", position.position},
                  {"pairs", position.pairs},
                  {"data_fingerprint", position.data_fingerprint},
                  {"config", json::parse(position.config_json)}};
    std::ofstream out(tmp / "state.json", std::ios::binary | std::ios::trunc);
    out << state.dump(2) << "\n";
    out.flush();
    if (!out) throw model::ModelError((tmp / "state.json").string() + ": write failed");
    out.close();
    sync_tree(tmp);
    fs::remove_all(final_path, ec);
    fs::rename(tmp, final_path);
    sync_path(dir.string());
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    throw model::ModelError("checkpoint " + final_path.string() + " not written (the previous "
                            "checkpoint stays valid): " + e.what());
  }
  const std::vector<fs::path> all = complete_checkpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove_all(all[i], ec);
  return final_path.string();
}

void write_model_atomically(const model::Blip& model, const std::string& folder) {
  const fs::path target(folder);
  const fs::path tmp = target.parent_path() / (".tmp-" + target.filename().string());
  const fs::path old = target.parent_path() / (".old-" + target.filename().string());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    model::save_checkpoint(model, tmp.string());
    sync_tree(tmp);
    fs::remove_all(old, ec);
    if (fs::exists(target)) fs::rename(target, old);
    fs::rename(tmp, target);
    sync_path(target.parent_path().string());
    fs::remove_all(old, ec);
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    throw model::ModelError(folder + ": model not written: " + e.what());
  }
}

CheckpointPosition read_checkpoint_position(const std::string& checkpoint) {
  const std::string path = (fs::path(checkpoint) / "state.json").string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw model::ModelError(path + ": missing");
  std::ostringstream text;
  text << in.rdbuf();
  const json j = json::parse(text.str(), nullptr, false);
  auto need = [&](const char* key) -> const json& {
    if (j.is_discarded() || !j.is_object() || !j.contains(key)) {
      throw model::ModelError(path + ": field '" + key + "' is missing");
    }
    return j.at(key);
  };
  CheckpointPosition p;
  try {
    p.step = need("step").get<int64_t>();
    p.epoch = need("epoch").get<int64_t>();
    p.position = need("position").get<int64_t>();
    p.config_json = need("config").dump();
    p.pairs = need("pairs").get<int64_t>();
    p.data_fingerprint = need("data_fingerprint").get<std::string>();
  } catch (const json::exception&) {
    throw model::ModelError(path + ": step/epoch/position must be integers");
  }
  return p;
}

}  // namespace internal

std::string newest_checkpoint(const std::string& job_dir) {
  const auto all = internal::complete_checkpoints(std::filesystem::path(job_dir) / "checkpoints");
  return all.empty() ? std::string() : all.back().string();
}

Result<double> max_checkpoint_difference(const std::string& a, const std::string& b,
                                         bool with_state) {
  try {
    double worst = 0.0;
    std::vector<std::string> files = {"model.safetensors"};
    if (with_state) files.push_back("training_state.safetensors");
    for (const std::string& file : files) {
      const auto ta = model::load_safetensors((std::filesystem::path(a) / file).string());
      const auto tb = model::load_safetensors((std::filesystem::path(b) / file).string());
      if (ta.size() != tb.size()) {
        return Status::invalid(file + ": " + std::to_string(ta.size()) + " vs " +
                               std::to_string(tb.size()) + " tensors");
      }
      for (const auto& [name, x] : ta) {
        const auto it = tb.find(name);
        if (it == tb.end() || !it->second.sizes().equals(x.sizes())) {
          return Status::invalid(file + ": tensor '" + name + "' differs in name or shape");
        }
        if (x.numel() == 0) continue;
        const double d =
            (x.to(torch::kDouble) - it->second.to(torch::kDouble)).abs().max().item<double>();
        worst = std::max(worst, d);
      }
    }
    return worst;
  } catch (const std::exception& e) {
    return Status::invalid(e.what());
  }
}

}  // namespace capfilt::core
