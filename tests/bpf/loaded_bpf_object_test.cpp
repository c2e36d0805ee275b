// Tests of the BPF_PROG_TEST_RUN harness itself: its errors name what went wrong instead of
// crashing or returning garbage, so a broken fixture is told apart from a broken program.
#include <gtest/gtest.h>

#include <cstring>
#include <span>
#include <string>

#include "bpf/mpx_shared.h"
#include "tests/bpf/loaded_bpf_object.hpp"
#include "tests/bpf/mpx_programs.hpp"
#include "tests/bpf/packet_builder.hpp"
#include "tests/support/privileged.hpp"

namespace mpx::test {
namespace {

bool mentions(const mpx::Error& error, const std::string& text) {
  return error.message.find(text) != std::string::npos;
}

TEST(LoadedBpfObject, AMissingObjectFileIsAnErrorNamingThePath) {
  const auto loaded = LoadedBpfObject::load("/nonexistent/mpx_missing.bpf.o");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_TRUE(mentions(loaded.error(), "/nonexistent/mpx_missing.bpf.o")) << loaded.error().message;
}

class LoadedMpxObject : public ::testing::Test {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    auto loaded = loaded_object(Hook::xdp);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    object_ = loaded.value();
  }
  LoadedBpfObject* object_ = nullptr;
};

TEST_F(LoadedMpxObject, UnknownProgramAndMapNamesAreErrors) {
  const auto run = object_->run("no_such_program", udp4_frame({}, {}, {}, Bytes(10, 0)));
  ASSERT_FALSE(run.has_value());
  EXPECT_TRUE(mentions(run.error(), "no_such_program")) << run.error().message;
  const auto sums = object_->percpu_u64_sums("no_such_map");
  ASSERT_FALSE(sums.has_value());
  EXPECT_TRUE(mentions(sums.error(), "no_such_map")) << sums.error().message;
  EXPECT_EQ(object_->program_fd("no_such_program"), -1);
  EXPECT_EQ(object_->map_fd("no_such_map"), -1);
  EXPECT_GE(object_->program_fd("mpx_xdp"), 0);
}

TEST_F(LoadedMpxObject, PerCpuSumsRefuseAMapOfAnotherKind) {
  const auto sums = object_->percpu_u64_sums(MPX_MAP_FLOWS);
  ASSERT_FALSE(sums.has_value());
  EXPECT_TRUE(mentions(sums.error(), "not a per-CPU array")) << sums.error().message;
}

TEST_F(LoadedMpxObject, MapAccessChecksSizesAndReportsMisses) {
  const mpx_flow_key key{};
  const auto missing = object_->lookup_elem(MPX_MAP_FLOWS, std::as_bytes(std::span(&key, 1)));
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(mentions(missing.error(), MPX_MAP_FLOWS)) << missing.error().message;

  const std::uint32_t wrong_size_key = 0;
  const auto wrong = object_->update(MPX_MAP_FLOWS, wrong_size_key, mpx_flow_value{});
  EXPECT_FALSE(wrong.has_value()) << "a 4-byte key must not be accepted for a 12-byte key map";

  mpx_flow_value value{};
  value.egress_ifindex = 7;
  ASSERT_TRUE(object_->update(MPX_MAP_FLOWS, key, value).has_value());
  const auto found = object_->lookup_elem(MPX_MAP_FLOWS, std::as_bytes(std::span(&key, 1)));
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_EQ(found.value().size(), sizeof(mpx_flow_value));
  mpx_flow_value read_back{};
  std::memcpy(&read_back, found.value().data(), sizeof read_back);
  EXPECT_EQ(read_back.egress_ifindex, 7u);
  EXPECT_TRUE(object_->erase(MPX_MAP_FLOWS, key).has_value());
  EXPECT_FALSE(object_->erase(MPX_MAP_FLOWS, key).has_value()) << "already removed";
}

}  // namespace
}  // namespace mpx::test
