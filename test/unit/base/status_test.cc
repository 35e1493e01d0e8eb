// Status and StatusOr: codes and their names, messages, context, and the propagation macros.
#include "base/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

namespace loom {
namespace {

TEST(Status, DefaultIsOkWithEmptyMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::Ok);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s, okStatus());
}

TEST(Status, OkStatusPrintsAsOk) { EXPECT_EQ(okStatus().toString(), "OK"); }

TEST(Status, CodeNamesAreTheCanonicalUpperCaseNames) {
  struct Case {
    StatusCode code;
    const char* name;
  };
  const Case cases[] = {
      {StatusCode::Ok, "OK"},
      {StatusCode::Cancelled, "CANCELLED"},
      {StatusCode::Unknown, "UNKNOWN"},
      {StatusCode::InvalidArgument, "INVALID_ARGUMENT"},
      {StatusCode::DeadlineExceeded, "DEADLINE_EXCEEDED"},
      {StatusCode::NotFound, "NOT_FOUND"},
      {StatusCode::AlreadyExists, "ALREADY_EXISTS"},
      {StatusCode::PermissionDenied, "PERMISSION_DENIED"},
      {StatusCode::ResourceExhausted, "RESOURCE_EXHAUSTED"},
      {StatusCode::FailedPrecondition, "FAILED_PRECONDITION"},
      {StatusCode::Aborted, "ABORTED"},
      {StatusCode::OutOfRange, "OUT_OF_RANGE"},
      {StatusCode::Unimplemented, "UNIMPLEMENTED"},
      {StatusCode::Internal, "INTERNAL"},
      {StatusCode::Unavailable, "UNAVAILABLE"},
      {StatusCode::DataLoss, "DATA_LOSS"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(statusCodeName(c.code), c.name) << static_cast<int>(c.code);
  }
}

TEST(Status, CodesHaveTheGrpcNumbers) {
  EXPECT_EQ(static_cast<int>(StatusCode::InvalidArgument), 3);
  EXPECT_EQ(static_cast<int>(StatusCode::NotFound), 5);
  EXPECT_EQ(static_cast<int>(StatusCode::FailedPrecondition), 9);
  EXPECT_EQ(static_cast<int>(StatusCode::Internal), 13);
  EXPECT_EQ(static_cast<int>(StatusCode::Unavailable), 14);
  EXPECT_EQ(static_cast<int>(StatusCode::DataLoss), 15);
}

TEST(Status, UnknownCodeValueIsNamedUnknown) {
  EXPECT_EQ(statusCodeName(static_cast<StatusCode>(99)), "UNKNOWN");
}

TEST(Status, HelpersBuildTheirCodeAndKeepTheMessage) {
  struct Case {
    Status status;
    StatusCode code;
  };
  const Case cases[] = {
      {invalidArgument("m1"), StatusCode::InvalidArgument},
      {notFound("m1"), StatusCode::NotFound},
      {failedPrecondition("m1"), StatusCode::FailedPrecondition},
      {internalError("m1"), StatusCode::Internal},
      {unavailable("m1"), StatusCode::Unavailable},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.ok()) << c.status.toString();
    EXPECT_EQ(c.status.code(), c.code) << c.status.toString();
    EXPECT_EQ(c.status.message(), "m1");
  }
}

TEST(Status, ToStringIsCodeNameColonMessage) {
  EXPECT_EQ(invalidArgument("port 'p1': bad mac 'zz'").toString(),
            "INVALID_ARGUMENT: port 'p1': bad mac 'zz'");
  EXPECT_EQ(Status(StatusCode::DataLoss, "x").toString(), "DATA_LOSS: x");
}

TEST(Status, WithContextPrefixesTheMessageAndKeepsTheCode) {
  Status s = notFound("no such file").withContext("topology t.json");
  EXPECT_EQ(s.code(), StatusCode::NotFound);
  EXPECT_EQ(s.message(), "topology t.json: no such file");
}

TEST(Status, WithContextNests) {
  Status s = invalidArgument("bad").withContext("inner").withContext("outer");
  EXPECT_EQ(s.message(), "outer: inner: bad");
}

TEST(Status, WithContextLeavesTheOriginalUnchanged) {
  Status original = internalError("boom");
  Status copy = original.withContext("ctx");
  EXPECT_EQ(original.message(), "boom");
  EXPECT_NE(copy, original);
}

TEST(Status, WithContextOnOkStaysOkWithoutMessage) {
  Status s = okStatus().withContext("ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(Status, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(notFound("a"), notFound("a"));
  EXPECT_NE(notFound("a"), notFound("b"));
  EXPECT_NE(notFound("a"), invalidArgument("a"));
}

TEST(StatusOr, HoldsAValue) {
  StatusOr<int> s(42);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s.status().ok());
  EXPECT_EQ(s.value(), 42);
  EXPECT_EQ(*s, 42);
}

TEST(StatusOr, ValueIsMutableThroughTheAccessors) {
  StatusOr<std::string> s(std::string("abc"));
  *s += "d";
  s->push_back('e');
  s.value() += "f";
  EXPECT_EQ(s.value(), "abcdef");
  EXPECT_EQ(s->size(), 6u);
}

TEST(StatusOr, HoldsAnErrorStatus) {
  StatusOr<int> s(notFound("gone"));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status(), notFound("gone"));
}

TEST(StatusOr, HoldsAMoveOnlyValue) {
  StatusOr<std::unique_ptr<int>> s(std::make_unique<int>(7));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(**s, 7);
  std::unique_ptr<int> taken = std::move(s).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 7);
}

TEST(StatusOr, MoveOnlyTypeCarriesAnError) {
  StatusOr<std::unique_ptr<int>> s(unavailable("later"));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::Unavailable);
}

TEST(StatusOrDeathTest, BuildingFromAnOkStatusAssertsInDebugAndIsInternalInRelease) {
  EXPECT_DEBUG_DEATH(
      {
        StatusOr<int> s{okStatus()};
        EXPECT_FALSE(s.ok());
        EXPECT_EQ(s.status().code(), StatusCode::Internal);
      },
      "OK status");
}

// --- RETURN_IF_ERROR and ASSIGN_OR_RETURN ---

Status failWith(Status s, int& calls) {
  ++calls;
  return s;
}

Status twoSteps(Status first, Status second, int& calls, bool& reached_end) {
  RETURN_IF_ERROR(failWith(first, calls));
  RETURN_IF_ERROR(failWith(second, calls));
  reached_end = true;
  return okStatus();
}

TEST(ReturnIfError, ContinuesWhenOk) {
  int calls = 0;
  bool reached_end = false;
  EXPECT_TRUE(twoSteps(okStatus(), okStatus(), calls, reached_end).ok());
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(reached_end);
}

TEST(ReturnIfError, ReturnsTheFirstErrorAndStops) {
  int calls = 0;
  bool reached_end = false;
  Status s = twoSteps(notFound("first"), invalidArgument("second"), calls, reached_end);
  EXPECT_EQ(s, notFound("first"));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(reached_end);
}

TEST(ReturnIfError, ReturnsALaterError) {
  int calls = 0;
  bool reached_end = false;
  Status s = twoSteps(okStatus(), invalidArgument("second"), calls, reached_end);
  EXPECT_EQ(s, invalidArgument("second"));
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(reached_end);
}

StatusOr<int> numberOr(Status error, int value, int& calls) {
  ++calls;
  if (!error.ok()) return error;
  return value;
}

// Adds two looked-up numbers; declares one target and assigns the other.
StatusOr<int> sum(Status e1, Status e2, int& calls) {
  ASSIGN_OR_RETURN(int a, numberOr(e1, 20, calls));
  int b = 0;
  ASSIGN_OR_RETURN(b, numberOr(e2, 22, calls));
  return a + b;
}

TEST(AssignOrReturn, AssignsValues) {
  int calls = 0;
  StatusOr<int> s = sum(okStatus(), okStatus(), calls);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(*s, 42);
  EXPECT_EQ(calls, 2);
}

TEST(AssignOrReturn, PropagatesTheFirstError) {
  int calls = 0;
  StatusOr<int> s = sum(failedPrecondition("no"), okStatus(), calls);
  EXPECT_EQ(s.status(), failedPrecondition("no"));
  EXPECT_EQ(calls, 1);
}

TEST(AssignOrReturn, PropagatesALaterError) {
  int calls = 0;
  StatusOr<int> s = sum(okStatus(), internalError("two"), calls);
  EXPECT_EQ(s.status(), internalError("two"));
  EXPECT_EQ(calls, 2);
}

StatusOr<std::unique_ptr<std::string>> makeName(bool fail) {
  if (fail) return invalidArgument("no name");
  return std::make_unique<std::string>("loom");
}

StatusOr<size_t> nameLength(bool fail) {
  ASSIGN_OR_RETURN(std::unique_ptr<std::string> name, makeName(fail));
  return name->size();
}

TEST(AssignOrReturn, MovesMoveOnlyValues) {
  StatusOr<size_t> s = nameLength(false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, 4u);
}

TEST(AssignOrReturn, PropagatesErrorsIntoAnotherStatusOrType) {
  StatusOr<size_t> s = nameLength(true);
  EXPECT_EQ(s.status(), invalidArgument("no name"));
}

Status checkPositive(int v, int& out) {
  ASSIGN_OR_RETURN(out, v > 0 ? StatusOr<int>(v) : StatusOr<int>(invalidArgument("not > 0")));
  return okStatus();
}

TEST(AssignOrReturn, WorksInAFunctionReturningStatus) {
  int out = 0;
  EXPECT_TRUE(checkPositive(5, out).ok());
  EXPECT_EQ(out, 5);
  out = 0;
  EXPECT_EQ(checkPositive(-1, out), invalidArgument("not > 0"));
  EXPECT_EQ(out, 0);
}

}  // namespace
}  // namespace loom
