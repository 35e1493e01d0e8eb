// GrpcEtcdClient: EtcdClient over etcd's v3 gRPC API (KV and Lease services).

#include "etcd/client.h"

#include <grpcpp/client_context.h>

#include <exception>
#include <utility>

#include "etcd/grpc_util.h"
#include "etcd/rpc.grpc.pb.h"

namespace loom::etcd {

std::string prefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // Empty prefix or all 0xff: every key from `prefix` on (etcd's "\0" range end).
  return std::string(1, '\0');
}

Compare Compare::exists(std::string key) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::Version;
  c.result = Result::Greater;
  c.number = 0;
  return c;
}

Compare Compare::missing(std::string key) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::Version;
  c.result = Result::Equal;
  c.number = 0;
  return c;
}

Compare Compare::modRevision(std::string key, int64_t rev) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::Mod;
  c.result = Result::Equal;
  c.number = rev;
  return c;
}

Compare Compare::rangeUnchangedSince(std::string prefix, int64_t rev) {
  Compare c;
  c.range_end = prefixEnd(prefix);
  c.key = std::move(prefix);
  c.target = Target::Mod;
  c.result = Result::Less;
  c.number = rev + 1;
  return c;
}

Op Op::put(std::string key, std::string value, int64_t lease) {
  Op op;
  op.kind = Kind::Put;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}

Op Op::del(std::string key, std::string range_end) {
  Op op;
  op.kind = Kind::Delete;
  op.key = std::move(key);
  op.range_end = std::move(range_end);
  return op;
}

Op Op::get(std::string key, std::string range_end) {
  Op op;
  op.kind = Kind::Range;
  op.key = std::move(key);
  op.range_end = std::move(range_end);
  return op;
}

namespace {

namespace pb = ::etcdserverpb;

KeyValue fromPb(const pb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

pb::RangeRequest rangeRequest(const std::string& key, const RangeOptions& o) {
  pb::RangeRequest req;
  req.set_key(key);
  req.set_range_end(o.range_end);
  req.set_limit(o.limit);
  req.set_revision(o.revision);
  req.set_serializable(o.serializable);
  req.set_keys_only(o.keys_only);
  req.set_count_only(o.count_only);
  return req;
}

RangeResult fromPb(const pb::RangeResponse& resp) {
  RangeResult out;
  out.kvs.reserve(static_cast<size_t>(resp.kvs_size()));
  for (const pb::KeyValue& kv : resp.kvs()) out.kvs.push_back(fromPb(kv));
  out.more = resp.more();
  out.count = resp.count();
  out.revision = resp.header().revision();
  return out;
}

void toPb(const Compare& c, pb::Compare* out) {
  out->set_key(c.key);
  out->set_range_end(c.range_end);
  switch (c.result) {
    case Compare::Result::Equal: out->set_result(pb::Compare::EQUAL); break;
    case Compare::Result::Greater: out->set_result(pb::Compare::GREATER); break;
    case Compare::Result::Less: out->set_result(pb::Compare::LESS); break;
    case Compare::Result::NotEqual: out->set_result(pb::Compare::NOT_EQUAL); break;
  }
  switch (c.target) {
    case Compare::Target::Version:
      out->set_target(pb::Compare::VERSION);
      out->set_version(c.number);
      break;
    case Compare::Target::Create:
      out->set_target(pb::Compare::CREATE);
      out->set_create_revision(c.number);
      break;
    case Compare::Target::Mod:
      out->set_target(pb::Compare::MOD);
      out->set_mod_revision(c.number);
      break;
    case Compare::Target::Value:
      out->set_target(pb::Compare::VALUE);
      out->set_value(c.value);
      break;
    case Compare::Target::Lease:
      out->set_target(pb::Compare::LEASE);
      out->set_lease(c.number);
      break;
  }
}

void toPb(const Op& op, pb::RequestOp* out) {
  switch (op.kind) {
    case Op::Kind::Put: {
      pb::PutRequest* put = out->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case Op::Kind::Delete: {
      pb::DeleteRangeRequest* del = out->mutable_request_delete_range();
      del->set_key(op.key);
      del->set_range_end(op.range_end);
      break;
    }
    case Op::Kind::Range: {
      pb::RangeRequest* range = out->mutable_request_range();
      range->set_key(op.key);
      range->set_range_end(op.range_end);
      break;
    }
  }
}

// Runs `f`, turning any exception (std::bad_alloc from a huge response, a throwing allocator)
// into an Internal status: no exception escapes the client.
template <typename F>
auto guarded(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return internalError(what + ": " + e.what());
  } catch (...) {
    return internalError(what + ": unknown exception");
  }
}

class GrpcEtcdClient final : public EtcdClient {
 public:
  GrpcEtcdClient(ClientOptions options, const std::shared_ptr<grpc::Channel>& channel)
      : EtcdClient(std::move(options)),
        kv_(pb::KV::NewStub(channel)),
        lease_(pb::Lease::NewStub(channel)) {}

  StatusOr<RangeResult> range(const std::string& key, const RangeOptions& options) override {
    return guarded("range " + key, [&]() -> StatusOr<RangeResult> {
      pb::RangeResponse resp;
      RETURN_IF_ERROR(
          call(&pb::KV::Stub::Range, *kv_, rangeRequest(key, options), &resp, "range " + key));
      return fromPb(resp);
    });
  }

  StatusOr<RangeResult> listRange(const std::string& prefix, const std::string& range_end,
                                  int64_t page_size, int64_t revision) override {
    return guarded("list " + prefix, [&]() -> StatusOr<RangeResult> {
      RangeOptions o;
      o.range_end = range_end;
      o.limit = page_size > 0 ? page_size : 0;
      o.revision = revision;
      RangeResult all;
      std::string key = prefix;
      for (;;) {
        ASSIGN_OR_RETURN(RangeResult page, range(key, o));
        if (o.revision == 0) o.revision = page.revision;
        if (all.revision == 0) {
          all.revision = o.revision;
          all.count = page.count;
        }
        bool more = page.more && !page.kvs.empty();
        if (more) key = page.kvs.back().key + std::string(1, '\0');
        for (KeyValue& kv : page.kvs) all.kvs.push_back(std::move(kv));
        if (!more) break;
      }
      return all;
    });
  }

  StatusOr<int64_t> put(const std::string& key, const std::string& value, int64_t lease) override {
    return guarded("put " + key, [&]() -> StatusOr<int64_t> {
      pb::PutRequest req;
      req.set_key(key);
      req.set_value(value);
      req.set_lease(lease);
      pb::PutResponse resp;
      RETURN_IF_ERROR(call(&pb::KV::Stub::Put, *kv_, req, &resp, "put " + key));
      return resp.header().revision();
    });
  }

  StatusOr<DeleteResult> deleteRange(const std::string& key,
                                     const std::string& range_end) override {
    return guarded("delete " + key, [&]() -> StatusOr<DeleteResult> {
      pb::DeleteRangeRequest req;
      req.set_key(key);
      req.set_range_end(range_end);
      pb::DeleteRangeResponse resp;
      RETURN_IF_ERROR(call(&pb::KV::Stub::DeleteRange, *kv_, req, &resp, "delete " + key));
      return DeleteResult{resp.deleted(), resp.header().revision()};
    });
  }

  StatusOr<TxnResult> txn(const Txn& txn) override {
    if (txn.compares.size() > kMaxTxnOps || txn.success.size() > kMaxTxnOps ||
        txn.failure.size() > kMaxTxnOps) {
      return resourceExhausted(
          "txn: more than " + std::to_string(kMaxTxnOps) + " compares or ops in one list (" +
          std::to_string(txn.compares.size()) + "/" + std::to_string(txn.success.size()) + "/" +
          std::to_string(txn.failure.size()) + ")");
    }
    return guarded("txn", [&]() -> StatusOr<TxnResult> {
      pb::TxnRequest req;
      for (const Compare& c : txn.compares) toPb(c, req.add_compare());
      for (const Op& op : txn.success) toPb(op, req.add_success());
      for (const Op& op : txn.failure) toPb(op, req.add_failure());
      pb::TxnResponse resp;
      RETURN_IF_ERROR(call(&pb::KV::Stub::Txn, *kv_, req, &resp, "txn"));
      TxnResult out;
      out.succeeded = resp.succeeded();
      out.revision = resp.header().revision();
      out.ranges.resize(static_cast<size_t>(resp.responses_size()));
      for (int i = 0; i < resp.responses_size(); ++i) {
        const pb::ResponseOp& r = resp.responses(i);
        if (!r.has_response_range()) continue;
        auto& kvs = out.ranges[static_cast<size_t>(i)];
        for (const pb::KeyValue& kv : r.response_range().kvs()) kvs.push_back(fromPb(kv));
      }
      return out;
    });
  }

  Status compact(int64_t revision) override {
    return guarded("compact", [&]() -> Status {
      pb::CompactionRequest req;
      req.set_revision(revision);
      pb::CompactionResponse resp;
      return call(&pb::KV::Stub::Compact, *kv_, req, &resp, "compact " + std::to_string(revision));
    });
  }

  StatusOr<LeaseGrant> leaseGrant(int64_t ttl_seconds) override {
    return guarded("lease grant", [&]() -> StatusOr<LeaseGrant> {
      pb::LeaseGrantRequest req;
      req.set_ttl(ttl_seconds);
      pb::LeaseGrantResponse resp;
      RETURN_IF_ERROR(call(&pb::Lease::Stub::LeaseGrant, *lease_, req, &resp, "lease grant"));
      if (!resp.error().empty()) return unavailable("lease grant: " + resp.error());
      return LeaseGrant{resp.id(), resp.ttl()};
    });
  }

  Status leaseRevoke(int64_t lease_id) override {
    return guarded("lease revoke", [&]() -> Status {
      pb::LeaseRevokeRequest req;
      req.set_id(lease_id);
      pb::LeaseRevokeResponse resp;
      return call(&pb::Lease::Stub::LeaseRevoke, *lease_, req, &resp,
                  "lease revoke " + std::to_string(lease_id));
    });
  }

  StatusOr<int64_t> leaseKeepAliveOnce(int64_t lease_id) override {
    std::string what = "lease keepalive " + std::to_string(lease_id);
    return guarded(what, [&]() -> StatusOr<int64_t> {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + options().call_timeout);
      auto stream = lease_->LeaseKeepAlive(&ctx);
      pb::LeaseKeepAliveRequest req;
      req.set_id(lease_id);
      pb::LeaseKeepAliveResponse resp;
      bool got = stream->Write(req) && stream->Read(&resp);
      if (got) {
        stream->WritesDone();
        ctx.TryCancel();  // We want no more; do not wait for the server to close.
      }
      grpc::Status st = stream->Finish();
      if (!got) {
        if (st.ok()) return unavailable(what + ": stream closed without a response");
        return internal::fromGrpc(st, what);
      }
      if (resp.ttl() <= 0) return notFound(what + ": requested lease not found");
      return resp.ttl();
    });
  }

 private:
  template <typename Stub, typename Req, typename Resp>
  Status call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), Stub& stub,
              const Req& req, Resp* resp, const std::string& what) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + options().call_timeout);
    return internal::fromGrpc((stub.*method)(&ctx, req, resp), what);
  }

  std::unique_ptr<pb::KV::Stub> kv_;
  std::unique_ptr<pb::Lease::Stub> lease_;
};

}  // namespace

StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::create(ClientOptions options) {
  try {
    if (options.call_timeout.count() <= 0) return invalidArgument("call_timeout: must be > 0");
    std::string tag = options.channel_tag.empty() ? "kv" : options.channel_tag;
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, internal::makeChannel(options, tag));
    return std::unique_ptr<EtcdClient>(new GrpcEtcdClient(std::move(options), channel));
  } catch (const std::exception& e) {
    return internalError(std::string("etcd client: ") + e.what());
  }
}

}  // namespace loom::etcd
