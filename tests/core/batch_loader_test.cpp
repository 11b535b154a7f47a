#include "core/batch_loader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>

#include "test_paths.h"

namespace capfilt::core {
namespace {

using namespace std::chrono_literals;

// A fake decoder: "img<N>" decodes to a 16×12 image whose colour encodes N.
Result<RgbImage> fake_image(const std::string& path) {
  int n = std::stoi(path.substr(3));
  RgbImage img;
  img.width = 16;
  img.height = 12;
  img.pixels.resize(16 * 12 * 3);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>((n * 37 + i) % 256);
  return img;
}

std::vector<std::string> names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("img" + std::to_string(i));
  return v;
}

LoaderOptions small_options() {
  LoaderOptions o;
  o.image_size = 8;
  o.workers = 2;
  o.prefetch = 4;
  o.seed = 11;
  o.decode = fake_image;
  return o;
}

std::vector<LoadedSample> drain(BatchLoader& loader) {
  std::vector<LoadedSample> out;
  while (auto s = loader.next()) out.push_back(std::move(*s));
  return out;
}

TEST(BatchLoader, InOrderIsReproducibleForASeed) {
  LoaderOptions o = small_options();
  o.delivery = Delivery::kInOrder;
  o.augment = true;
  BatchLoader a(names(30), o), b(names(30), o);
  std::vector<LoadedSample> x = drain(a), y = drain(b);
  ASSERT_EQ(x.size(), 30u);
  ASSERT_EQ(y.size(), 30u);
  std::vector<std::size_t> identity(30);
  for (std::size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(x[i].index, y[i].index);
    EXPECT_EQ(x[i].index, a.order()[i]);
    EXPECT_EQ(x[i].pixels, y[i].pixels);
    EXPECT_EQ(x[i].pixels.size(), 3u * 8 * 8);
    identity[i] = i;
  }
  EXPECT_NE(a.order(), identity);  // shuffled
  // Another seed, another order; another epoch, another order.
  o.seed = 12;
  EXPECT_NE(BatchLoader(names(30), o).order(), a.order());
  o.seed = 11;
  o.epoch = 1;
  EXPECT_NE(BatchLoader(names(30), o).order(), a.order());
}

TEST(BatchLoader, StartResumesAnEpochMidway) {
  // A resumed training job: the samples from position 12 on, as an uninterrupted epoch has them.
  LoaderOptions o = small_options();
  o.delivery = Delivery::kInOrder;
  o.augment = true;
  BatchLoader whole(names(30), o);
  o.start = 12;
  BatchLoader rest(names(30), o);
  std::vector<LoadedSample> x = drain(whole), y = drain(rest);
  ASSERT_EQ(y.size(), 18u);
  for (std::size_t i = 0; i < y.size(); ++i) {
    EXPECT_EQ(y[i].order, x[12 + i].order);
    EXPECT_EQ(y[i].index, x[12 + i].index);
    EXPECT_EQ(y[i].pixels, x[12 + i].pixels);
  }
}

TEST(BatchLoader, AsReadyDeliversTheSameSamplesAsInOrder) {
  LoaderOptions o = small_options();
  o.augment = true;
  o.workers = 3;
  BatchLoader ready(names(25), o);
  o.delivery = Delivery::kInOrder;
  BatchLoader ordered(names(25), o);
  std::map<std::size_t, std::vector<float>> by_index;
  for (LoadedSample& s : drain(ordered)) by_index[s.index] = s.pixels;
  std::vector<LoadedSample> got = drain(ready);
  ASSERT_EQ(got.size(), 25u);
  for (const LoadedSample& s : got) EXPECT_EQ(s.pixels, by_index.at(s.index)) << s.index;
}

TEST(BatchLoader, PrefetchesAheadButBoundedly) {
  std::atomic<int> decoded{0};
  LoaderOptions o = small_options();
  o.prefetch = 5;
  o.decode = [&](const std::string& p) {
    ++decoded;
    return fake_image(p);
  };
  BatchLoader loader(names(50), o);
  // Nothing consumed yet: the workers fill the window and stop there.
  for (int i = 0; i < 500 && decoded < 5; ++i) std::this_thread::sleep_for(2ms);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(decoded.load(), 5);
  ASSERT_TRUE(loader.next());
  for (int i = 0; i < 500 && decoded < 6; ++i) std::this_thread::sleep_for(2ms);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(decoded.load(), 6);
}

TEST(BatchLoader, SlowFileDoesNotStallTheOthers) {
  // The slow file blocks until the test has received every other sample: if the loader waited
  // for it, the test would time out at the wait_for below instead of receiving them.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  LoaderOptions o = small_options();
  o.shuffle = false;
  o.decode = [&](const std::string& p) -> Result<RgbImage> {
    if (p == "img0") released.wait_for(10s);
    return fake_image(p);
  };
  BatchLoader loader(names(20), o);
  std::set<std::size_t> seen;
  for (int i = 0; i < 19; ++i) {
    auto s = loader.next();
    ASSERT_TRUE(s);
    seen.insert(s->index);
  }
  EXPECT_EQ(seen.count(0), 0u) << "the slow file came before the fast ones";
  EXPECT_EQ(seen.size(), 19u);
  release.set_value();
  auto last = loader.next();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->index, 0u);
  EXPECT_FALSE(loader.next());
}

TEST(BatchLoader, BrokenFileIsReportedNotFatal) {
  std::string dir = std::string(test::kTestDataDir) + "/coco-cc-by/images/";
  std::vector<std::string> paths = {dir + "000000397133.jpg", dir + "missing.jpg",
                                    std::string(test::kTestDataDir) + "/coco-cc-by/captions.json",
                                    dir + "000000006818.jpg"};
  LoaderOptions o;
  o.image_size = 16;
  o.seed = 3;
  BatchLoader loader(paths, o);
  std::vector<LoadedSample> failed;
  std::vector<LoadedSample> ok = loader.next_batch(10, &failed);
  EXPECT_EQ(ok.size(), 2u);
  ASSERT_EQ(failed.size(), 2u);
  for (const LoadedSample& f : failed) {
    EXPECT_FALSE(f.status.is_ok());
    EXPECT_NE(f.status.message().find(f.path), std::string::npos) << f.status.message();
    EXPECT_TRUE(f.pixels.empty());
  }
}

TEST(BatchLoader, CancelStopsQuickly) {
  std::atomic<int> decoded{0};
  LoaderOptions o = small_options();
  o.decode = [&](const std::string& p) {
    ++decoded;
    std::this_thread::sleep_for(5ms);
    return fake_image(p);
  };
  auto start = std::chrono::steady_clock::now();
  {
    BatchLoader loader(names(1000), o);
    ASSERT_EQ(loader.next_batch(3).size(), 3u);
    loader.cancel();
    EXPECT_FALSE(loader.next());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_LT(decoded.load(), 20);
}

TEST(BatchLoader, EmptyListEndsAtOnce) {
  BatchLoader loader({}, small_options());
  EXPECT_FALSE(loader.next());
}

}  // namespace
}  // namespace capfilt::core
