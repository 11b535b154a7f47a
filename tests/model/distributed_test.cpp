// model/distributed.h on two ranks in one process (a thread each, Gloo over loopback): the
// gather, the gradient of all_gather_with_grad, bucketed gradient averaging, and a clear error
// when a peer is gone. Skipped where the build has no Gloo.

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "model/distributed.h"
#include "model/error.h"

namespace capfilt::model {
namespace {

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Runs body(rank, comm) on two ranks at once and returns their results.
template <typename T>
std::vector<T> on_two_ranks(const std::function<T(int, Communicator&)>& body, int timeout_s = 30) {
  const int port = free_port();
  std::vector<std::future<T>> futures;
  for (int rank = 0; rank < 2; ++rank) {
    futures.push_back(std::async(std::launch::async, [=] {
      ProcessGroupOptions o;
      o.rank = rank;
      o.world_size = 2;
      o.master_port = port;
      o.timeout = std::chrono::seconds(timeout_s);
      std::unique_ptr<Communicator> comm = connect_process_group(o);
      return body(rank, *comm);
    }));
  }
  std::vector<T> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!backend_available("gloo")) GTEST_SKIP() << "this build has no Gloo";
  }
};

TEST_F(DistributedTest, GatherConcatenatesInRankOrder) {
  const auto got = on_two_ranks<torch::Tensor>([](int rank, Communicator& comm) {
    return comm.all_gather(torch::full({2, 3}, rank + 1.0), "test");
  });
  for (const torch::Tensor& t : got) {
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{4, 3}));
    EXPECT_TRUE(torch::equal(t.narrow(0, 0, 2), torch::full({2, 3}, 1.0)));
    EXPECT_TRUE(torch::equal(t.narrow(0, 2, 2), torch::full({2, 3}, 2.0)));
  }
}

// Rank r's loss uses every rank's rows with weights w_r; the gradient that reaches rank r's input
// must be the sum over ranks of d(loss_s)/d(rows of r), as for one process holding everything.
TEST_F(DistributedTest, GatherWithGradReturnsEveryRanksGradientToTheRowsOwner) {
  const auto weights = [](int rank) { return torch::arange(4, torch::kDouble).view({4, 1}) + 10 * rank; };
  const auto grads = on_two_ranks<torch::Tensor>([&](int rank, Communicator& comm) {
    torch::Tensor x = torch::full({2, 1}, rank + 1.0, torch::kDouble).requires_grad_(true);
    (all_gather_with_grad(comm, x) * weights(rank)).sum().backward();
    return x.grad().clone();
  });
  const torch::Tensor total = weights(0) + weights(1);  // d(loss_0 + loss_1) / d(all rows)
  EXPECT_TRUE(torch::allclose(grads[0], total.narrow(0, 0, 2)));
  EXPECT_TRUE(torch::allclose(grads[1], total.narrow(0, 2, 2)));
}

TEST_F(DistributedTest, AverageGradientsOverBucketsAndSkipsUndefinedOnes) {
  const auto got = on_two_ranks<std::vector<torch::Tensor>>([](int rank, Communicator& comm) {
    std::vector<torch::Tensor> params;
    for (int i = 0; i < 5; ++i) {
      torch::Tensor p = torch::zeros({3, 4}).requires_grad_(true);
      if (i != 2) p.mutable_grad() = torch::full({3, 4}, static_cast<float>(rank * 10 + i));
      params.push_back(p);
    }
    average_gradients(comm, params, /*bucket_bytes=*/2 * 3 * 4 * 4);  // 2 gradients per bucket
    std::vector<torch::Tensor> out;
    for (auto& p : params) out.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
    return out;
  });
  for (const auto& grads : got) {
    for (int i = 0; i < 5; ++i) {
      if (i == 2) {
        EXPECT_FALSE(grads[i].defined());
        continue;
      }
      EXPECT_TRUE(torch::allclose(grads[i], torch::full({3, 4}, (i + (10 + i)) / 2.0f))) << i;
    }
  }
}

TEST_F(DistributedTest, APeerThatLeftIsAClearError) {
  const auto messages = on_two_ranks<std::string>(
      [](int rank, Communicator& comm) -> std::string {
        if (rank == 1) return "";  // leaves: its communicator closes
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        try {
          std::vector<torch::Tensor> t{torch::ones({1})};
          comm.all_reduce_sum(t, "the test's all-reduce");
        } catch (const ModelError& e) {
          return e.what();
        }
        return "no error";
      },
      /*timeout_s=*/5);
  EXPECT_NE(messages[0].find("rank 0 of 2 lost contact"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("the test's all-reduce"), std::string::npos) << messages[0];
}

}  // namespace
}  // namespace capfilt::model
