#include "core/process_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

namespace capfilt::core {
namespace {

// The last SIGINT/SIGTERM the launcher received (a handler can reach only static storage).
std::atomic<int> g_forward_signal{0};

extern "C" void on_launcher_signal(int signal) { g_forward_signal.store(signal); }

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with status " + std::to_string(exit_code_of(status));
}

pid_t spawn(const LaunchOptions& o, int rank, const std::string& port) {
  const pid_t pid = fork();
  if (pid != 0) return pid;  // the parent, or -1
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  setenv("MASTER_ADDR", o.master_addr.c_str(), 1);
  setenv("MASTER_PORT", port.c_str(), 1);
  setenv("RANK", std::to_string(rank).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
  setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
  std::vector<char*> argv;
  for (const std::string& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  const std::string msg = "capfilt launch: cannot start " + o.argv[0] + ": " + strerror(errno) + "\n";
  (void)!write(2, msg.data(), msg.size());
  _exit(127);
}

}  // namespace

Result<int> free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::io_error(std::string("socket: ") + strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const std::string error = strerror(errno);
  close(fd);
  if (!ok) return Status::io_error("cannot find a free TCP port: " + error);
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<LaunchResult> launch_local(const LaunchOptions& o, int stopped_code) {
  if (o.nproc < 1) return Status::invalid("--nproc must be at least 1");
  if (o.argv.empty()) return Status::invalid("nothing to launch: give the command after --");
  int port = o.master_port;
  if (port == 0) {
    auto p = free_tcp_port();
    if (!p) return p.status();
    port = *p;
  }
  const auto say = [&](const std::string& text) {
    if (o.on_message) o.on_message(text);
  };
  struct sigaction action {}, old_int {}, old_term {};
  action.sa_handler = on_launcher_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  g_forward_signal.store(0);

  std::vector<pid_t> pids(o.nproc, -1);
  std::vector<bool> running(o.nproc, false);
  LaunchResult result;
  result.child_codes.assign(o.nproc, 0);
  const auto signal_all = [&](int sig) {
    for (int r = 0; r < o.nproc; ++r) {
      if (running[r]) kill(pids[r], sig);
    }
  };
  Status start_error;
  for (int r = 0; r < o.nproc; ++r) {
    pids[r] = spawn(o, r, std::to_string(port));
    if (pids[r] < 0) {
      start_error = Status::io_error(std::string("cannot start rank ") + std::to_string(r) + ": " +
                                     strerror(errno));
      break;
    }
    running[r] = true;
  }
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> term_at, kill_at;
  if (!start_error) term_at = Clock::now();
  int alive = 0;
  for (bool b : running) alive += b ? 1 : 0;
  while (alive > 0) {
    if (const int sig = g_forward_signal.exchange(0); sig != 0) {
      say(std::string("forwarding ") + strsignal(sig) + " to the ranks");
      signal_all(sig);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (int r = 0; r < o.nproc; ++r) {
        if (pids[r] != pid || !running[r]) continue;
        running[r] = false;
        --alive;
        const int code = exit_code_of(status);
        result.child_codes[r] = code;
        if (code != 0 && code != stopped_code && result.first_failed_rank < 0) {
          result.first_failed_rank = r;
          if (alive > 0) {
            say("rank " + std::to_string(r) + " (pid " + std::to_string(pid) + ") " +
                describe(status) + "; the other ranks get " + std::to_string(o.grace.count()) +
                " s to notice, then they are stopped");
            term_at = Clock::now() + o.grace;
          } else {
            say("rank " + std::to_string(r) + " (pid " + std::to_string(pid) + ") " + describe(status));
          }
        }
      }
      continue;
    }
    const auto now = Clock::now();
    if (term_at && now >= *term_at) {
      say("stopping the remaining ranks (SIGTERM)");
      signal_all(SIGTERM);
      term_at.reset();
      kill_at = now + o.kill_after;
    }
    if (kill_at && now >= *kill_at) {
      say("killing the remaining ranks (SIGKILL)");
      signal_all(SIGKILL);
      kill_at.reset();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!start_error) return start_error;
  if (result.first_failed_rank >= 0) {
    result.exit_code = result.child_codes[result.first_failed_rank];
  } else {
    for (int code : result.child_codes) {
      if (code == stopped_code) result.exit_code = stopped_code;
    }
  }
  return result;
}

}  // namespace capfilt::core
