// The rendezvous a launcher sets in the environment (torchrun, Slurm) and the distributed sampler
// of the batch loader: each rank's share of every global batch.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/batch_loader.h"
#include "core/distributed_env.h"

namespace capfilt::core {
namespace {

Result<DistributedSetup> from(const std::map<std::string, std::string>& env) {
  return distributed_setup_from_env([&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(DistributedEnvTest, NoLauncherIsOneProcess) {
  auto d = from({});
  ASSERT_TRUE(d) << d.status().message();
  EXPECT_EQ(d->world_size, 1);
  EXPECT_FALSE(d->enabled());
}

TEST(DistributedEnvTest, ReadsTorchrunVariables) {
  auto d = from({{"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29611"}, {"RANK", "5"},
                 {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"CAPFILT_DIST_TIMEOUT", "45"},
                 {"CAPFILT_DIST_BACKEND", "nccl"}});
  ASSERT_TRUE(d) << d.status().message();
  EXPECT_EQ(d->rank, 5);
  EXPECT_EQ(d->world_size, 8);
  EXPECT_EQ(d->local_rank, 1);
  EXPECT_EQ(d->master_addr, "10.0.0.7");
  EXPECT_EQ(d->master_port, 29611);
  EXPECT_EQ(d->timeout_s, 45);
  EXPECT_EQ(d->backend, "nccl");
  EXPECT_TRUE(d->enabled());
}

TEST(DistributedEnvTest, ReadsSlurmVariablesWithTheFirstNodeAsMaster) {
  auto d = from({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"},
                 {"SLURM_JOB_ID", "123456"}, {"SLURM_JOB_NODELIST", "gpu[07-08,11],cpu1"}});
  ASSERT_TRUE(d) << d.status().message();
  EXPECT_EQ(d->rank, 3);
  EXPECT_EQ(d->world_size, 4);
  EXPECT_EQ(d->local_rank, 1);
  EXPECT_EQ(d->master_addr, "gpu07");
  EXPECT_EQ(d->master_port, 20000 + 123456 % 20000);
  // MASTER_ADDR and MASTER_PORT win over what Slurm implies.
  auto e = from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "n[1-2]"},
                 {"MASTER_ADDR", "head"}, {"MASTER_PORT", "4000"}});
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(e->master_addr, "head");
  EXPECT_EQ(e->master_port, 4000);
}

TEST(DistributedEnvTest, FirstSlurmHost) {
  EXPECT_EQ(*first_slurm_host("node1"), "node1");
  EXPECT_EQ(*first_slurm_host("a,b,c"), "a");
  EXPECT_EQ(*first_slurm_host("gpu[03-05,09]"), "gpu03");
  EXPECT_EQ(*first_slurm_host("rack[2,4]-n[01-03],x"), "rack2-n01");
  EXPECT_FALSE(first_slurm_host(""));
  EXPECT_FALSE(first_slurm_host("gpu[03-05"));
  EXPECT_FALSE(first_slurm_host("gpu[x-y]"));
}

TEST(DistributedEnvTest, RejectsMalformedValuesNamingTheVariable) {
  auto bad_rank = from({{"RANK", "2"}, {"WORLD_SIZE", "2"}});
  ASSERT_FALSE(bad_rank);
  EXPECT_NE(bad_rank.status().message().find("outside a world of 2"), std::string::npos);
  auto bad_port = from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "http"}});
  ASSERT_FALSE(bad_port);
  EXPECT_NE(bad_port.status().message().find("MASTER_PORT='http'"), std::string::npos);
  auto no_rank = from({{"WORLD_SIZE", "2"}});
  ASSERT_FALSE(no_rank);
  EXPECT_NE(no_rank.status().message().find("RANK is not set"), std::string::npos);
  auto no_nodes = from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}});
  ASSERT_FALSE(no_nodes);
  EXPECT_NE(no_nodes.status().message().find("SLURM_JOB_NODELIST"), std::string::npos);
  auto backend = from({{"CAPFILT_DIST_BACKEND", "mpi"}});
  ASSERT_FALSE(backend);
}

TEST(DistributedEnvTest, DefaultBackendFollowsTheDevice) {
  EXPECT_EQ(default_backend("cpu"), "gloo");
  EXPECT_EQ(default_backend("cuda:1"), "nccl");
}

// The ranks' loaders, started at a batch boundary, deal each global batch of 6 as 3 slices of 2
// in rank order; together they deliver exactly the one-process order from that position.
TEST(DistributedSamplerTest, RanksShareEachGlobalBatchInRankOrder) {
  std::vector<std::string> paths;
  for (int i = 0; i < 20; ++i) paths.push_back("img" + std::to_string(i));
  LoaderOptions o;
  o.seed = 9;
  o.epoch = 2;
  o.start = 6;
  o.workers = 1;
  o.delivery = Delivery::kInOrder;
  o.decode = [](const std::string&) -> Result<RgbImage> { return RgbImage(); };  // fails: no pixels needed
  BatchLoader whole(paths, o);
  std::vector<size_t> expected;
  for (size_t p = 6; p < 20; ++p) expected.push_back(whole.order()[p]);

  std::vector<std::vector<size_t>> per_rank(3);
  for (size_t r = 0; r < 3; ++r) {
    LoaderOptions s = o;
    s.shard_block = 2;
    s.shard_index = r;
    s.shard_count = 3;
    BatchLoader shard(paths, s);
    for (auto sample = shard.next(); sample; sample = shard.next()) per_rank[r].push_back(sample->index);
  }
  // Global batch k = rank 0's k-th pair, rank 1's, rank 2's.
  std::vector<size_t> merged;
  for (size_t k = 0; k * 2 < per_rank[0].size(); ++k) {
    for (size_t r = 0; r < 3; ++r) {
      for (size_t i = 2 * k; i < std::min(2 * k + 2, per_rank[r].size()); ++i) merged.push_back(per_rank[r][i]);
    }
  }
  EXPECT_EQ(merged, expected);
  std::set<size_t> all;
  for (const auto& v : per_rank) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), expected.size());  // disjoint shards
}

}  // namespace
}  // namespace capfilt::core
