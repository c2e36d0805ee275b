// python_json_dump must write what Python's json.dumps() writes (expected strings below were
// produced by CPython 3 json.dumps with default arguments).
#include "common/protocol/python_json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace mpx::protocol {
namespace {

using nlohmann::ordered_json;

TEST(PythonJson, SeparatorsAndKeyOrder) {
  ordered_json j = ordered_json::object();
  j["z"] = 1;
  j["a"] = ordered_json::array({1, "two", nullptr, true});
  j["m"] = ordered_json::object();
  j["e"] = ordered_json::array();
  j["n"] = {{"inner", false}};
  EXPECT_EQ(python_json_dump(j),
            R"({"z": 1, "a": [1, "two", null, true], "m": {}, "e": [], "n": {"inner": false}})");
}

TEST(PythonJson, EnsureAsciiEscaping) {
  EXPECT_EQ(python_json_dump(ordered_json("caf\xc3\xa9")), R"("caf\u00e9")");
  EXPECT_EQ(python_json_dump(ordered_json("\xf0\x9f\x98\x80")), R"("\ud83d\ude00")");
  EXPECT_EQ(python_json_dump(ordered_json("a\"b\\c/d")), R"("a\"b\\c/d")");
  EXPECT_EQ(python_json_dump(ordered_json("\n\r\t\b\f\x01\x1f\x7f")),
            R"("\n\r\t\b\f\u0001\u001f\u007f")");
  ordered_json keyed = ordered_json::object();
  keyed["k\xc3\xa9y"] = "v";
  EXPECT_EQ(python_json_dump(keyed), R"({"k\u00e9y": "v"})");
}

TEST(PythonJson, InvalidUtf8IsReplacedNotThrown) {
  EXPECT_EQ(python_json_dump(ordered_json("a\xff" "b")), R"("a\ufffdb")");
}

TEST(PythonJson, NumbersLikePythonRepr) {
  EXPECT_EQ(python_json_dump(ordered_json(137.6)), "137.6");
  EXPECT_EQ(python_json_dump(ordered_json(1760000000.51)), "1760000000.51");
  EXPECT_EQ(python_json_dump(ordered_json(2.0)), "2.0");
  EXPECT_EQ(python_json_dump(ordered_json(0.0)), "0.0");
  EXPECT_EQ(python_json_dump(ordered_json(-0.5)), "-0.5");
  EXPECT_EQ(python_json_dump(ordered_json(1e16)), "1e+16");
  EXPECT_EQ(python_json_dump(ordered_json(1e15)), "1000000000000000.0");
  EXPECT_EQ(python_json_dump(ordered_json(1e-05)), "1e-05");
  EXPECT_EQ(python_json_dump(ordered_json(0.0001)), "0.0001");
  EXPECT_EQ(python_json_dump(ordered_json(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(python_json_dump(ordered_json(std::numeric_limits<std::uint64_t>::max())),
            "18446744073709551615");
  EXPECT_EQ(python_json_dump(ordered_json(std::int64_t{-42})), "-42");
  EXPECT_EQ(python_json_dump(ordered_json(-0.0)), "-0.0");
  EXPECT_EQ(python_json_dump(ordered_json(100.0)), "100.0");
  EXPECT_EQ(python_json_dump(ordered_json(1.5e16)), "1.5e+16");
  EXPECT_EQ(python_json_dump(ordered_json(123456789012345678.0)), "1.2345678901234568e+17");
  EXPECT_EQ(python_json_dump(ordered_json(9999999999999998.0)), "9999999999999998.0");
  EXPECT_EQ(python_json_dump(ordered_json(12345000000000.0)), "12345000000000.0");
  EXPECT_EQ(python_json_dump(ordered_json(0.00012345)), "0.00012345");
  EXPECT_EQ(python_json_dump(ordered_json(2.5e-05)), "2.5e-05");
  EXPECT_EQ(python_json_dump(ordered_json(5e-324)), "5e-324");
  EXPECT_EQ(python_json_dump(ordered_json(1.7976931348623157e308)), "1.7976931348623157e+308");
  EXPECT_EQ(python_json_dump(ordered_json(1e22)), "1e+22");
  EXPECT_EQ(python_json_dump(ordered_json(std::nan(""))), "null");
}

}  // namespace
}  // namespace mpx::protocol
