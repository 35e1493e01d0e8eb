// GrpcLeaseKeeper: LeaseKeeper over a LeaseKeepAlive stream, owned by one thread.

#include "etcd/lease.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "etcd/grpc_util.h"
#include "etcd/rpc.grpc.pb.h"

namespace loom::etcd {
namespace {

namespace pb = ::etcdserverpb;
using Stream = grpc::ClientReaderWriter<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>;

// A third of the TTL, so two keep-alives may be lost before the lease expires; never more
// often than every 100 ms.
std::chrono::milliseconds keepAliveInterval(int64_t ttl_seconds) {
  return std::max(std::chrono::milliseconds(100),
                  std::chrono::milliseconds(ttl_seconds * 1000 / 3));
}

class GrpcLeaseKeeper final : public LeaseKeeper {
 public:
  GrpcLeaseKeeper(EtcdClient& client, LeaseOptions options,
                  const std::shared_ptr<grpc::Channel>& channel, LeaseGrant first)
      : client_(client),
        options_(std::move(options)),
        stub_(pb::Lease::NewStub(channel)),
        lease_id_(first.id),
        ttl_(first.ttl_seconds) {}

  ~GrpcLeaseKeeper() override {
    bool revoke = !released_.load();
    halt();
    if (revoke) (void)client_.leaseRevoke(lease_id_.load());
  }

  void begin() {
    thread_ = std::thread([this] { run(); });
  }

  int64_t leaseId() const override { return lease_id_.load(); }

  void release() override {
    released_.store(true);
    halt();
  }

 private:
  void halt() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (ctx_) ctx_->TryCancel();
    }
    cv_.notify_all();
    // From a handler on the thread itself: the thread ends on its own and the destructor
    // (which the handler must not run) joins it.
    if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) return;
    thread_.join();
  }

  // Waits `d`; true if stopping.
  bool sleepFor(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, d, [this] { return stopping_; });
  }

  void run() {
    std::chrono::milliseconds backoff{0};
    for (;;) {
      bool lost = false;
      bool progressed = false;
      try {
        lost = runStream(&progressed);
      } catch (const std::exception&) {
        // Treated as a broken stream.
      } catch (...) {
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
      if (lost) {
        if (!regrant()) return;
        backoff = std::chrono::milliseconds(0);
        continue;
      }
      backoff = progressed ? minBackoff() : internal::nextBackoff(backoff, client_.options());
      if (sleepFor(backoff)) return;
    }
  }

  std::chrono::milliseconds minBackoff() const { return client_.options().min_backoff; }

  // One stream: a keep-alive every interval until the stream fails (false) or the lease is
  // reported lost (true).
  bool runStream(bool* progressed) {
    auto ctx = std::make_shared<grpc::ClientContext>();
    ctx->set_wait_for_ready(true);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
      ctx_ = ctx;
    }
    std::unique_ptr<Stream> stream = stub_->LeaseKeepAlive(ctx.get());
    bool lost = false;
    for (;;) {
      pb::LeaseKeepAliveRequest req;
      req.set_id(lease_id_.load());
      pb::LeaseKeepAliveResponse resp;
      if (!stream->Write(req) || !stream->Read(&resp)) break;
      if (resp.ttl() <= 0) {
        lost = true;
        break;
      }
      *progressed = true;
      ttl_.store(resp.ttl());
      if (sleepFor(keepAliveInterval(resp.ttl()))) break;
    }
    ctx->TryCancel();
    pb::LeaseKeepAliveResponse drain;
    while (stream->Read(&drain)) {
    }
    grpc::Status st = stream->Finish();
    if (!lost && st.error_code() == grpc::StatusCode::NOT_FOUND) lost = true;
    std::lock_guard<std::mutex> lock(mu_);
    ctx_.reset();
    return lost;
  }

  // Grants a new lease (retrying with backoff) and tells the owner. False if stopped meanwhile.
  bool regrant() {
    std::chrono::milliseconds backoff{0};
    for (;;) {
      StatusOr<LeaseGrant> grant = client_.leaseGrant(options_.ttl_seconds);
      if (grant.ok()) {
        lease_id_.store(grant->id);
        ttl_.store(grant->ttl_seconds);
        try {
          if (options_.on_new_lease) options_.on_new_lease(grant->id);
        } catch (...) {
          // The owner's callback failed; the lease itself is fine and kept alive.
        }
        return true;
      }
      backoff = internal::nextBackoff(backoff, client_.options());
      if (sleepFor(backoff)) return false;
    }
  }

  EtcdClient& client_;
  const LeaseOptions options_;
  std::unique_ptr<pb::Lease::Stub> stub_;
  std::atomic<int64_t> lease_id_;
  std::atomic<int64_t> ttl_;
  std::atomic<bool> released_{false};

  std::mutex mu_;  // Guards stopping_ and ctx_.
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<grpc::ClientContext> ctx_;

  std::thread thread_;
};

}  // namespace

StatusOr<std::unique_ptr<LeaseKeeper>> LeaseKeeper::start(EtcdClient& client,
                                                          LeaseOptions options) {
  try {
    if (options.ttl_seconds <= 0) return invalidArgument("ttl_seconds: must be > 0");
    const ClientOptions& co = client.options();
    std::string tag = (co.channel_tag.empty() ? "kv" : co.channel_tag) + "/lease";
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, internal::makeChannel(co, tag));
    ASSIGN_OR_RETURN(LeaseGrant first, client.leaseGrant(options.ttl_seconds));
    if (options.on_new_lease) options.on_new_lease(first.id);
    auto keeper = std::make_unique<GrpcLeaseKeeper>(client, std::move(options), channel, first);
    keeper->begin();
    return std::unique_ptr<LeaseKeeper>(std::move(keeper));
  } catch (const std::exception& e) {
    return internalError(std::string("lease keeper: ") + e.what());
  }
}

}  // namespace loom::etcd
