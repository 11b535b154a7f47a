#include "core/demo_data.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/random_util.h"

namespace capfilt::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct NamedColour {
  const char* name;
  std::array<int, 3> rgb;
};

const NamedColour kShapeColours[] = {
    {"red", {220, 40, 40}},    {"green", {40, 170, 60}},   {"blue", {40, 80, 220}},
    {"yellow", {240, 210, 40}}, {"purple", {140, 60, 180}}, {"orange", {245, 140, 30}},
    {"white", {245, 245, 245}}, {"black", {25, 25, 25}}};
const NamedColour kBackgrounds[] = {
    {"white", {232, 232, 226}}, {"black", {22, 22, 28}},      {"grey", {128, 128, 128}},
    {"light blue", {170, 205, 235}}, {"beige", {225, 210, 175}}, {"dark green", {30, 70, 40}},
    {"pink", {240, 180, 200}},  {"navy", {20, 30, 80}}};
const char* kKinds[] = {"circle", "square", "triangle", "star"};

const NamedColour& colour_named(const NamedColour* table, std::size_t n, const std::string& name) {
  for (std::size_t i = 0; i < n; ++i) {
    if (name == table[i].name) return table[i];
  }
  return table[0];
}
const NamedColour& shape_colour(const std::string& n) { return colour_named(kShapeColours, std::size(kShapeColours), n); }
const NamedColour& background(const std::string& n) { return colour_named(kBackgrounds, std::size(kBackgrounds), n); }

double distance(const std::array<int, 3>& a, const std::array<int, 3>& b) {
  double d = 0;
  for (int i = 0; i < 3; ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(d);
}

template <typename T, std::size_t N>
const T& pick(const T (&items)[N], std::mt19937& rng) {
  return items[uniform_int(rng, 0, static_cast<int>(N) - 1)];
}

// ---- Captions -----------------------------------------------------------------------------------

std::string with_article(const std::string& phrase) {
  bool vowel = !phrase.empty() && std::string("aeiou").find(phrase[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + phrase;
}

std::string noun(const DemoShape& s) {
  std::string size = s.size == "medium" ? "" : s.size + " ";
  return with_article(size + s.colour + " " + s.kind);
}

std::string position_phrase(const DemoShape& s) {
  std::string h = s.x < 0.37 ? "left" : s.x > 0.63 ? "right" : "";
  std::string v = s.y < 0.37 ? "top" : s.y > 0.63 ? "bottom" : "";
  if (!h.empty() && !v.empty()) return "in the " + v + " " + h + " corner";
  if (!h.empty()) return "on the " + h;
  if (!v.empty()) return "at the " + v;
  return "in the center";
}

// Where a is seen from b: "to the left of", "above", ...
std::string relation(const DemoShape& a, const DemoShape& b) {
  double dx = b.x - a.x, dy = b.y - a.y;
  if (std::abs(dx) >= std::abs(dy)) return dx > 0 ? "to the left of" : "to the right of";
  return dy > 0 ? "above" : "below";
}

std::string describe_one(const DemoScene& sc, int v) {
  const DemoShape& s = sc.shapes[0];
  const std::string bg = sc.background;
  switch (v % 6) {
    case 0: return noun(s);
    case 1: return noun(s) + " on " + with_article(bg) + " background";
    case 2: return noun(s) + " " + position_phrase(s);
    case 3: return "there is " + with_article(s.colour + " " + s.kind) + " " + position_phrase(s);
    case 4: return "a picture of " + noun(s);
    default: return "a single " + s.colour + " " + s.kind + " against " + with_article(bg) + " background";
  }
}

std::string describe_two(const DemoScene& sc, int v) {
  const DemoShape &a = sc.shapes[0], &b = sc.shapes[1];
  if (a.kind == b.kind && a.colour == b.colour && v % 2 == 0) {
    return "two " + a.colour + " " + a.kind + "s on " + with_article(sc.background) + " background";
  }
  switch (v % 5) {
    case 0: return noun(a) + " " + relation(a, b) + " " + noun(b);
    case 1: return noun(a) + " and " + noun(b);
    case 2: return noun(a) + " and " + noun(b) + " on " + with_article(sc.background) + " background";
    case 3: return "two shapes: " + noun(a) + " and " + noun(b);
    default: return noun(b) + " " + relation(b, a) + " " + noun(a);
  }
}

std::string describe_three(const DemoScene& sc, int v) {
  const DemoShape &a = sc.shapes[0], &b = sc.shapes[1], &c = sc.shapes[2];
  switch (v % 4) {
    case 0: return noun(a) + ", " + noun(b) + " and " + noun(c);
    case 1: return "three shapes: " + noun(a) + ", " + noun(b) + " and " + noun(c);
    case 2: return noun(a) + ", " + noun(b) + " and " + noun(c) + " on " + with_article(sc.background) + " background";
    default: return noun(a) + " " + relation(a, b) + " " + noun(b) + ", and " + noun(c);
  }
}

// ---- Noise --------------------------------------------------------------------------------------

const char* kWebText[] = {
    "my favourite photo", "IMG_2041.JPG", "click here to see more", "untitled",
    "best wallpapers 2019 free download", "photo by admin", "check out my new post!!",
    "image may contain: text", "stock photo", "DSC_0042", "screenshot", "shapes",
    "colorful abstract background vector illustration", "sale ends today", "thanks for 1k followers",
    "no description available", "view image", "copyright all rights reserved"};
const char* kSeoWords[] = {"shapes", "geometry", "kids", "learning", "colors", "free", "printable",
                           "worksheet", "clipart", "vector", "png", "hd", "wallpaper", "design",
                           "abstract", "background", "art", "template", "download", "best"};

std::string over_long(const std::string& clean, std::mt19937& rng) {
  std::string out = clean + " |";
  int words = uniform_int(rng, 90, 140);
  for (int i = 0; i < words; ++i) out += std::string(" ") + pick(kSeoWords, rng);
  return out;
}

// The scene with one attribute of one shape changed (its colour, else its kind).
DemoScene with_wrong_attribute(DemoScene scene, std::mt19937& rng) {
  DemoShape& s = scene.shapes[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(scene.shapes.size()) - 1))];
  if (bernoulli(rng, 0.6)) {
    std::string old = s.colour;
    while (s.colour == old) s.colour = pick(kShapeColours, rng).name;
  } else {
    std::string old = s.kind;
    while (s.kind == old) s.kind = pick(kKinds, rng);
  }
  return scene;
}

struct Item {
  DemoScene scene;
  std::string image;   // relative path
  std::string split;   // train, val, test
  std::string subset;  // human, web, val, test
  int variant = 0;     // caption template
  std::string clean;
};

// ---- VQA ----------------------------------------------------------------------------------------

int count_if_shapes(const DemoScene& sc, const std::function<bool(const DemoShape&)>& f) {
  return static_cast<int>(std::count_if(sc.shapes.begin(), sc.shapes.end(), f));
}

json vqa_for(const Item& item, std::mt19937& rng, int* next_id) {
  const DemoScene& sc = item.scene;
  json out = json::array();
  auto add = [&](const std::string& q, const std::string& a, const char* kind) {
    out.push_back({{"question_id", (*next_id)++}, {"image", item.image}, {"question", q},
                   {"answer", json::array({a})}, {"kind", kind}, {"dataset", "capfilt-demo"}});
  };
  add("how many shapes are there?", std::to_string(sc.shapes.size()), "count");
  const DemoShape& s = sc.shapes[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(sc.shapes.size()) - 1))];
  if (count_if_shapes(sc, [&](const DemoShape& o) { return o.kind == s.kind; }) == 1) {
    add("what color is the " + s.kind + "?", s.colour, "colour");
  }
  if (count_if_shapes(sc, [&](const DemoShape& o) { return o.colour == s.colour; }) == 1) {
    add("what shape is the " + s.colour + " one?", s.kind, "shape");
  }
  add("how many " + s.colour + " shapes are there?",
      std::to_string(count_if_shapes(sc, [&](const DemoShape& o) { return o.colour == s.colour; })), "count");
  bool unique = count_if_shapes(sc, [&](const DemoShape& o) { return o.colour == s.colour && o.kind == s.kind; }) == 1;
  if (unique && std::abs(s.x - 0.5) > 0.12) {
    add("is the " + s.colour + " " + s.kind + " on the left or on the right?", s.x < 0.5 ? "left" : "right", "position");
  }
  // Yes/no, balanced: a shape that is there, or a colour-kind pair that is not.
  if (bernoulli(rng, 0.5)) {
    add("is there " + with_article(s.colour + " " + s.kind) + " in the picture?", "yes", "existence");
  } else {
    for (int tries = 0; tries < 20; ++tries) {
      std::string c = pick(kShapeColours, rng).name, k = pick(kKinds, rng);
      if (count_if_shapes(sc, [&](const DemoShape& o) { return o.colour == c && o.kind == k; }) == 0) {
        add("is there " + with_article(c + " " + k) + " in the picture?", "no", "existence");
        break;
      }
    }
  }
  return out;
}

json scene_json(const Item& item) {
  json shapes = json::array();
  for (const DemoShape& s : item.scene.shapes) {
    shapes.push_back({{"shape", s.kind}, {"color", s.colour}, {"size", s.size},
                      {"x", std::round(s.x * 1000) / 1000}, {"y", std::round(s.y * 1000) / 1000},
                      {"radius", std::round(s.radius * 1000) / 1000}});
  }
  return {{"image", item.image}, {"split", item.split}, {"subset", item.subset},
          {"background", item.scene.background}, {"shapes", shapes}};
}

Status write_json(const fs::path& path, const json& value) {
  std::ofstream out(path, std::ios::trunc);
  out << value.dump(1) << "\n";
  if (!out) return Status::io_error(path.string() + ": cannot write");
  return Status::ok();
}

// Splits the items and assigns subsets: test, val, then human and web among the training images.
void assign_splits(std::vector<Item>& items, const DemoDataOptions& o, std::mt19937& rng) {
  std::vector<std::size_t> idx(items.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  portable_shuffle(idx, rng);
  const int n = static_cast<int>(items.size());
  const int n_test = static_cast<int>(std::lround(n * o.test_fraction));
  const int n_val = static_cast<int>(std::lround(n * o.val_fraction));
  const int n_human = static_cast<int>(std::lround((n - n_test - n_val) * o.human_fraction));
  for (int k = 0; k < n; ++k) {
    Item& it = items[idx[static_cast<std::size_t>(k)]];
    if (k < n_test) {
      it.split = it.subset = "test";
    } else if (k < n_test + n_val) {
      it.split = it.subset = "val";
    } else {
      it.split = "train";
      it.subset = k < n_test + n_val + n_human ? "human" : "web";
    }
  }
}

struct NoiseResult {
  std::string caption;
  std::string kind;  // "" when clean
};

NoiseResult make_noise(const std::vector<Item>& items, std::size_t self, std::mt19937& rng) {
  const Item& it = items[self];
  double u = uniform01(rng);
  if (u < 0.3) {  // another image's caption
    for (int tries = 0; tries < 50; ++tries) {
      const Item& other = items[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(items.size()) - 1))];
      if (other.clean != it.clean) return {other.clean, "other_image"};
    }
  } else if (u < 0.6) {
    std::string wrong = describe_demo_scene(with_wrong_attribute(it.scene, rng), it.variant);
    if (wrong != it.clean) return {wrong, "wrong_attribute"};
  } else if (u < 0.8) {
    return {pick(kWebText, rng), "web_text"};
  } else if (u < 0.9) {
    return {"", "empty"};
  } else {
    return {over_long(it.clean, rng), "over_long"};
  }
  return {pick(kWebText, rng), "web_text"};
}

Status write_files(const fs::path& dir, std::vector<Item>& items, const DemoDataOptions& o,
                   std::mt19937& rng, DemoDataSummary* summary) {
  json human = json::array(), web = json::array(), val = json::array(), test = json::array();
  json labels = json::array(), scenes = json::array();
  json vqa_train = json::array(), vqa_val = json::array(), vqa_test = json::array();
  // The noisy web captions: exactly round(noise × web) of them, chosen by the seed.
  std::vector<std::size_t> web_idx;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].subset == "web") web_idx.push_back(i);
  }
  portable_shuffle(web_idx, rng);
  std::size_t n_noisy = static_cast<std::size_t>(std::lround(o.noise * static_cast<double>(web_idx.size())));
  std::vector<bool> noisy(items.size(), false);
  for (std::size_t k = 0; k < n_noisy && k < web_idx.size(); ++k) noisy[web_idx[k]] = true;
  int question_id = 1;
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item& it = items[i];
    scenes.push_back(scene_json(it));
    json qa = vqa_for(it, rng, &question_id);
    summary->vqa_questions += static_cast<int>(qa.size());
    json& vqa = it.split == "train" ? vqa_train : it.split == "val" ? vqa_val : vqa_test;
    for (auto& q : qa) vqa.push_back(std::move(q));
    if (it.subset == "human") {
      human.push_back({{"image", it.image}, {"caption", it.clean}});
    } else if (it.subset == "web") {
      NoiseResult n = noisy[i] ? make_noise(items, i, rng) : NoiseResult{it.clean, ""};
      web.push_back({{"image", it.image}, {"caption", n.caption}});
      labels.push_back({{"image", it.image}, {"caption", n.caption}, {"noisy", noisy[i]},
                        {"noise_kind", noisy[i] ? n.kind : "none"}, {"clean_caption", it.clean}});
    } else {
      json refs = json::array({it.clean});
      for (int v = 1; refs.size() < 3 && v < 12; ++v) {
        std::string c = describe_demo_scene(it.scene, it.variant + v);
        if (std::find(refs.begin(), refs.end(), c) == refs.end()) refs.push_back(c);
      }
      (it.split == "val" ? val : test).push_back({{"image", it.image}, {"caption", refs}});
    }
  }
  summary->human = static_cast<int>(human.size());
  summary->web = static_cast<int>(web.size());
  summary->val = static_cast<int>(val.size());
  summary->test = static_cast<int>(test.size());
  summary->noisy = static_cast<int>(n_noisy);
  fs::create_directories(dir / "ground-truth");
  json meta = {{"seed", o.seed}, {"count", o.count}, {"noise", o.noise}, {"image_size", o.image_size},
               {"human_fraction", o.human_fraction}, {"noisy_captions", n_noisy}, {"web_captions", web.size()}};
  const std::pair<fs::path, json> files[] = {
      {dir / "human_train.json", human}, {dir / "web_train.json", web}, {dir / "val.json", val},
      {dir / "test.json", test}, {dir / "vqa_train.json", vqa_train}, {dir / "vqa_val.json", vqa_val},
      {dir / "vqa_test.json", vqa_test},
      {dir / "ground-truth" / "noise_labels.json", json{{"generator", meta}, {"captions", labels}}},
      {dir / "ground-truth" / "scenes.json", scenes}};
  for (const auto& [path, value] : files) {
    Status s = write_json(path, value);
    if (!s) return s;
  }
  std::ofstream readme(dir / "README.txt");
  readme << "CapFilt demo dataset (synthetic shapes), generated by `capfilt demo-data`.\n"
            "human_train.json: clean captions (the human-annotated subset).\n"
            "web_train.json: web captions, " << n_noisy << " of " << web.size()
         << " replaced by noise; which ones is in ground-truth/noise_labels.json only.\n"
            "val.json, test.json: 3 reference captions per image. vqa_*.json: question/answer pairs.\n";
  return readme ? Status::ok() : Status::io_error((dir / "README.txt").string() + ": cannot write");
}

}  // namespace

DemoScene sample_demo_scene(std::mt19937& rng) {
  DemoScene scene;
  const NamedColour& bg = pick(kBackgrounds, rng);
  scene.background = bg.name;
  int wanted = uniform_int(rng, 1, 3);
  for (int tries = 0; tries < 200 && static_cast<int>(scene.shapes.size()) < wanted; ++tries) {
    DemoShape s;
    s.kind = pick(kKinds, rng);
    const NamedColour* c = &pick(kShapeColours, rng);
    while (distance(c->rgb, bg.rgb) < 120) c = &pick(kShapeColours, rng);
    s.colour = c->name;
    int size = uniform_int(rng, 0, 2);
    s.size = size == 0 ? "small" : size == 1 ? "medium" : "large";
    double crowd = wanted == 3 ? 0.8 : 1.0;  // three shapes must fit: a little smaller
    s.radius = crowd * (size == 0 ? uniform(rng, 0.08, 0.11) : size == 1 ? uniform(rng, 0.13, 0.16)
                                                                          : uniform(rng, 0.19, 0.24));
    s.x = uniform(rng, s.radius + 0.02, 0.98 - s.radius);
    s.y = uniform(rng, s.radius + 0.02, 0.98 - s.radius);
    bool overlaps = false;
    for (const DemoShape& o : scene.shapes) {
      overlaps |= std::hypot(o.x - s.x, o.y - s.y) < o.radius + s.radius + 0.04;
    }
    if (!overlaps) scene.shapes.push_back(s);
  }
  return scene;
}

RgbImage render_demo_scene(const DemoScene& scene, int size, std::mt19937& rng) {
  const std::array<int, 3> base = background(scene.background).rgb;
  const double angle = uniform(rng, 0, 2 * M_PI), strength = uniform(rng, 0, 30);
  cv::Mat img(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      double t = ((x - size / 2.0) * std::cos(angle) + (y - size / 2.0) * std::sin(angle)) / size;
      int grain = uniform_int(rng, -6, 6);
      cv::Vec3b& p = img.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) p[c] = cv::saturate_cast<std::uint8_t>(base[c] + t * strength + grain);
    }
  }
  for (const DemoShape& s : scene.shapes) {
    const std::array<int, 3>& c = shape_colour(s.colour).rgb;
    cv::Scalar colour(c[0], c[1], c[2]);
    const double cx = s.x * size, cy = s.y * size, r = s.radius * size;
    std::vector<cv::Point> poly;
    auto at = [&](double rad, double deg) {
      double a = deg * M_PI / 180.0;
      return cv::Point(static_cast<int>(std::lround((cx + rad * std::cos(a)) * 16)),
                       static_cast<int>(std::lround((cy + rad * std::sin(a)) * 16)));
    };
    if (s.kind == "circle") {
      cv::circle(img, cv::Point(static_cast<int>(cx * 16), static_cast<int>(cy * 16)),
                 static_cast<int>(r * 16), colour, cv::FILLED, cv::LINE_AA, 4);
      continue;
    }
    if (s.kind == "square") {
      for (int k = 0; k < 4; ++k) poly.push_back(at(r * 1.1, 45 + 90 * k));
    } else if (s.kind == "triangle") {
      for (int k = 0; k < 3; ++k) poly.push_back(at(r * 1.15, -90 + 120 * k));
    } else {  // star
      for (int k = 0; k < 10; ++k) poly.push_back(at(k % 2 ? r * 0.5 : r * 1.15, -90 + 36 * k));
    }
    cv::fillPoly(img, std::vector<std::vector<cv::Point>>{poly}, colour, cv::LINE_AA, 4);
  }
  RgbImage out;  // drawn with RGB values in OpenCV's channel order, so no conversion is needed
  out.width = out.height = size;
  out.pixels.assign(img.data, img.data + static_cast<std::size_t>(size) * size * 3);
  return out;
}

std::string describe_demo_scene(const DemoScene& scene, int variant) {
  variant = std::abs(variant);
  switch (scene.shapes.size()) {
    case 0: return "an empty background";
    case 1: return describe_one(scene, variant);
    case 2: return describe_two(scene, variant);
    default: return describe_three(scene, variant);
  }
}

Result<DemoDataSummary> generate_demo_data(const std::string& out_dir, const DemoDataOptions& o) {
  if (o.count <= 0 || o.image_size < 16 || o.noise < 0 || o.noise > 1 || o.human_fraction < 0 ||
      o.human_fraction > 1 || o.val_fraction + o.test_fraction >= 1) {
    return Status::invalid("demo data: count must be positive, image size at least 16, fractions in [0, 1]");
  }
  std::error_code ec;
  const fs::path out(out_dir);
  if (fs::exists(out, ec) && !fs::is_empty(out, ec) && !o.overwrite) {
    return Status::invalid(out_dir + ": the folder exists and is not empty (use overwrite)");
  }
  const fs::path temp = out.string() + ".partial";
  fs::remove_all(temp, ec);
  fs::create_directories(temp / "images", ec);
  if (ec) return Status::io_error(temp.string() + ": cannot create (" + ec.message() + ")");
  std::mt19937 rng(derive_seed(o.seed, 0));
  std::vector<Item> items(static_cast<std::size_t>(o.count));
  for (int i = 0; i < o.count; ++i) {
    if (o.cancelled && o.cancelled()) {
      fs::remove_all(temp, ec);
      return Status::cancelled("demo data generation cancelled");
    }
    Item& it = items[static_cast<std::size_t>(i)];
    std::mt19937 item_rng(derive_seed(o.seed, static_cast<std::uint64_t>(i) + 1));
    it.scene = sample_demo_scene(item_rng);
    it.variant = uniform_int(item_rng, 0, 59);
    it.clean = describe_demo_scene(it.scene, it.variant);
    char name[32];
    std::snprintf(name, sizeof name, "images/demo_%05d.png", i);
    it.image = name;
    Status s = write_image_file(render_demo_scene(it.scene, o.image_size, item_rng), (temp / name).string());
    if (!s) {
      fs::remove_all(temp, ec);
      return s;
    }
    if (o.progress && (i % 50 == 49 || i + 1 == o.count)) o.progress(i + 1, o.count);
  }
  assign_splits(items, o, rng);
  DemoDataSummary summary;
  summary.images = o.count;
  Status s = write_files(temp, items, o, rng, &summary);
  if (s) {
    fs::remove_all(out, ec);
    fs::rename(temp, out, ec);
    if (ec) s = Status::io_error(out_dir + ": cannot move the generated data into place (" + ec.message() + ")");
  }
  if (!s) {
    fs::remove_all(temp, ec);
    return s;
  }
  return summary;
}

}  // namespace capfilt::core
