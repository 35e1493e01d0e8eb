// GrpcWatcher: Watcher over one etcd Watch stream at a time, owned by one thread.

#include "etcd/watch.h"

#include <grpcpp/client_context.h>

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
using Stream = grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>;

class GrpcWatcher final : public Watcher {
 public:
  GrpcWatcher(ClientOptions options, std::shared_ptr<grpc::Channel> channel, std::string prefix,
              std::string range_end, int64_t start_revision, WatchHandler handler)
      : options_(std::move(options)),
        stub_(pb::Watch::NewStub(channel)),
        prefix_(std::move(prefix)),
        range_end_(std::move(range_end)),
        handler_(std::move(handler)),
        last_revision_(start_revision > 0 ? start_revision - 1 : -1) {}

  ~GrpcWatcher() override { stop(); }

  void begin() {
    thread_ = std::thread([this] { run(); });
  }

  int64_t lastRevision() const override { return last_revision_.load(); }

  void requestProgress() override {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (stream_ == nullptr) return;
    pb::WatchRequest req;
    req.mutable_progress_request();
    stream_->Write(req);  // A failure shows up on the reading side.
  }

  void stop() override {
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

 private:
  enum class StreamEnd : uint8_t { Broken, Compacted, Stopped };

  void run() {
    std::chrono::milliseconds backoff{0};
    for (;;) {
      bool created = false;
      Status reason;
      StreamEnd end = StreamEnd::Broken;
      try {
        end = runStream(&created, &reason);
      } catch (const std::exception& e) {
        reason = internalError(std::string("watch: ") + e.what());
      } catch (...) {
        reason = internalError("watch: unknown exception");
      }
      if (end != StreamEnd::Broken) return;
      try {
        if (handler_.on_state) handler_.on_state(false, reason);
      } catch (...) {
        // A throwing handler must not end the thread.
      }
      backoff = created ? options_.min_backoff : internal::nextBackoff(backoff, options_);
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    }
  }

  // One stream: create, read until it fails, is canceled, or stop() is called.
  StreamEnd runStream(bool* created, Status* reason) {
    auto ctx = std::make_shared<grpc::ClientContext>();
    ctx->set_wait_for_ready(true);
    ctx->AddMetadata("hasleader", "true");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return StreamEnd::Stopped;
      ctx_ = ctx;
    }
    std::unique_ptr<Stream> stream = stub_->Watch(ctx.get());
    const int64_t from = last_revision_.load();
    pb::WatchRequest req;
    pb::WatchCreateRequest* create = req.mutable_create_request();
    create->set_key(prefix_);
    create->set_range_end(range_end_);
    create->set_start_revision(from >= 0 ? from + 1 : 0);
    create->set_progress_notify(true);
    StreamEnd end = StreamEnd::Broken;
    if (stream->Write(req)) {
      {
        std::lock_guard<std::mutex> lock(write_mu_);
        stream_ = stream.get();
      }
      try {
        end = readAll(*stream, created, reason);
      } catch (const std::exception& e) {
        // A throwing handler: drop this stream (the events were counted as delivered).
        *reason = internalError(std::string("watch handler: ") + e.what());
      } catch (...) {
        *reason = internalError("watch handler: unknown exception");
      }
      std::lock_guard<std::mutex> lock(write_mu_);
      stream_ = nullptr;
    }
    ctx->TryCancel();
    pb::WatchResponse drain;
    while (stream->Read(&drain)) {
    }
    grpc::Status st = stream->Finish();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ctx_.reset();
      if (stopping_) return StreamEnd::Stopped;
    }
    if (end == StreamEnd::Broken && reason->ok()) {
      *reason = st.ok() ? unavailable("watch stream closed by the server")
                        : internal::fromGrpc(st, "watch " + prefix_);
    }
    return end;
  }

  // Reads responses until the stream fails or is canceled.
  StreamEnd readAll(Stream& stream, bool* created, Status* reason) {
    pb::WatchResponse resp;
    while (stream.Read(&resp)) {
      if (resp.canceled()) {
        if (resp.compact_revision() > 0) {
          if (handler_.on_compacted) handler_.on_compacted(resp.compact_revision());
          return StreamEnd::Compacted;
        }
        *reason = unavailable("watch canceled by the server: " + resp.cancel_reason());
        return StreamEnd::Broken;
      }
      if (resp.created()) {
        *created = true;
        if (last_revision_.load() < 0) last_revision_.store(resp.header().revision());
        if (handler_.on_state) handler_.on_state(true, okStatus());
      }
      deliver(resp);
    }
    return StreamEnd::Broken;
  }

  void deliver(const pb::WatchResponse& resp) {
    const int64_t last = last_revision_.load();
    WatchBatch batch;
    int64_t newest = last;
    for (const pb::Event& ev : resp.events()) {
      const int64_t rev = ev.kv().mod_revision();
      if (rev <= last) continue;  // Already delivered before a reconnect.
      WatchEvent out;
      out.type = ev.type() == pb::Event::DELETE ? WatchEvent::Type::Delete : WatchEvent::Type::Put;
      out.kv.key = ev.kv().key();
      out.kv.value = ev.kv().value();
      out.kv.create_revision = ev.kv().create_revision();
      out.kv.mod_revision = rev;
      out.kv.version = ev.kv().version();
      out.kv.lease = ev.kv().lease();
      newest = std::max(newest, rev);
      batch.events.push_back(std::move(out));
    }
    if (resp.events_size() == 0 && !resp.created()) {
      // A progress notification: every change up to the header revision has been sent. (With
      // events, the header revision may run ahead of them while the server catches up.)
      newest = std::max(newest, resp.header().revision());
    }
    if (newest <= last) return;
    last_revision_.store(newest);
    batch.revision = newest;
    if (handler_.on_batch) handler_.on_batch(std::move(batch));
  }

  const ClientOptions options_;
  std::unique_ptr<pb::Watch::Stub> stub_;
  const std::string prefix_;
  const std::string range_end_;
  WatchHandler handler_;
  std::atomic<int64_t> last_revision_;

  std::mutex mu_;  // Guards stopping_ and ctx_.
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<grpc::ClientContext> ctx_;

  std::mutex write_mu_;  // Serializes writes; guards stream_.
  Stream* stream_ = nullptr;

  std::thread thread_;
};

}  // namespace

StatusOr<std::unique_ptr<Watcher>> Watcher::start(const ClientOptions& options, std::string prefix,
                                                  int64_t start_revision, WatchHandler handler) {
  std::string end = prefixEnd(prefix);
  return startRange(options, std::move(prefix), std::move(end), start_revision, std::move(handler));
}

StatusOr<std::unique_ptr<Watcher>> Watcher::startRange(const ClientOptions& options,
                                                       std::string key, std::string range_end,
                                                       int64_t start_revision,
                                                       WatchHandler handler) {
  try {
    std::string tag = (options.channel_tag.empty() ? "kv" : options.channel_tag) + "/watch";
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, internal::makeChannel(options, tag));
    auto watcher =
        std::make_unique<GrpcWatcher>(options, std::move(channel), std::move(key),
                                      std::move(range_end), start_revision, std::move(handler));
    watcher->begin();
    return std::unique_ptr<Watcher>(std::move(watcher));
  } catch (const std::exception& e) {
    return internalError(std::string("watch: ") + e.what());
  }
}

}  // namespace loom::etcd
