// Packet library hot paths: parse + flow-key extraction, header checksum, set-field actions.
// Numbers are meaningful only from a Release build (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <vector>

#include "packet/actions.h"
#include "packet/builder.h"
#include "packet/checksum.h"
#include "packet/parser.h"

namespace loom::packet {
namespace {

const MacAddr kMacA = MacAddr::fromU64(0x020000000001ULL);
const MacAddr kMacB = MacAddr::fromU64(0x020000000002ULL);
const IpAddr kIp4A = IpAddr::v4(0x0a000001);
const IpAddr kIp4B = IpAddr::v4(0x0a000101);
const IpAddr kIp6A = IpAddr::parse("fd00::1").value();
const IpAddr kIp6B = IpAddr::parse("fd00:1::2").value();

// 74 bytes, the size of a TCP SYN with the usual options.
std::vector<uint8_t> tcp4Frame() {
  return PacketBuilder()
      .eth(kMacA, kMacB)
      .ipv4(kIp4A, kIp4B)
      .tcp(40000, 80)
      .tcpFlags(kTcpSyn)
      .payload(20)
      .build();
}

void parseLoop(benchmark::State& state, const std::vector<uint8_t>& frame,
               const ParseOptions& opts = {}) {
  for (auto _ : state) {
    ParsedPacket p = parsePacket(frame, opts);
    FlowMatch key = flowMatchOf(p);
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(key);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(frame.size()));
}

void BM_ParseTcpIpv4(benchmark::State& state) {
  auto frame = tcp4Frame();
  if (frame.size() != 74 || !parsePacket(frame).ok()) state.SkipWithError("bad frame");
  parseLoop(state, frame);
}
BENCHMARK(BM_ParseTcpIpv4);

void BM_ParseTcpIpv6(benchmark::State& state) {
  auto frame = PacketBuilder()
                   .eth(kMacA, kMacB)
                   .ipv6(kIp6A, kIp6B)
                   .tcp(40000, 80)
                   .tcpFlags(kTcpSyn)
                   .payload(20)
                   .build();
  parseLoop(state, frame);
}
BENCHMARK(BM_ParseTcpIpv6);

void BM_ParseArp(benchmark::State& state) {
  auto frame = PacketBuilder()
                   .eth(kMacA, MacAddr::broadcast())
                   .arp(kArpOpRequest, kMacA, kIp4A, MacAddr(), kIp4B)
                   .padToMinimum()
                   .build();
  parseLoop(state, frame);
}
BENCHMARK(BM_ParseArp);

// Outer parse with VXLAN decode, then the inner frame's parse and key.
void BM_ParseVxlanTcp(benchmark::State& state) {
  auto frame = PacketBuilder()
                   .eth(kMacA, kMacB)
                   .ipv4(kIp4A, kIp4B)
                   .udp(49152, kVxlanPort)
                   .vxlan(5001)
                   .payload(tcp4Frame())
                   .build();
  const ParseOptions opts{.decode_vxlan = true};
  for (auto _ : state) {
    ParsedPacket outer = parsePacket(frame, opts);
    ParsedPacket inner = parsePacket(outer.vxlanInner());
    FlowMatch key = flowMatchOf(inner);
    benchmark::DoNotOptimize(outer);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_ParseVxlanTcp);

void BM_Ipv4HeaderChecksum(benchmark::State& state) {
  auto frame = tcp4Frame();
  std::span<const uint8_t> header = std::span<const uint8_t>(frame).subspan(14, 20);
  for (auto _ : state) {
    benchmark::DoNotOptimize(header.data());
    uint16_t sum = internetChecksum(header);
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_Ipv4HeaderChecksum);

// A routed hop: new source and destination MACs and a TTL decrement, applied in place
// (includes the re-parse applySetFields does first).
void BM_ApplySetFieldsRouted(benchmark::State& state) {
  auto frame = tcp4Frame();
  const SetField actions[] = {
      SetField{.kind = SetFieldKind::EthSrc, .mac = MacAddr::fromU64(0x0200000000aaULL)},
      SetField{.kind = SetFieldKind::EthDst, .mac = MacAddr::fromU64(0x0200000000bbULL)},
      SetField{.kind = SetFieldKind::NwTtl, .value = 63},
  };
  for (auto _ : state) {
    bool ok = applySetFields(frame, actions);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(frame.data());
  }
}
BENCHMARK(BM_ApplySetFieldsRouted);

}  // namespace
}  // namespace loom::packet

BENCHMARK_MAIN();
