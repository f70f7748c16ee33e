"""Writes tests/conformance/retry/*.json and tests/conformance/retry_budget/**.json.
Delays of jittered backoffs come from retry_ref.py; everything else is
worked out in the descriptions. Run from the repository root:
    python3 tests/conformance/tools/gen_retry.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from retry_ref import *  # noqa: E402,F401,F403

HERE = os.path.dirname(__file__)
COUNT = {}
JSON_SAFE = (1 << 53) - 1


def write(dirname, primitive, name, description, preset=None, config=None, steps=None, expect_status=None, field=None):
    d = {"primitive": primitive, "description": description}
    if preset:
        d["preset"] = preset
    if config:
        d["config"] = config
    if expect_status:
        d["expect_status"] = expect_status
        if field:
            d["expect_error_field"] = field
    d["steps"] = steps or []
    path = os.path.join(HERE, "..", dirname)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name + ".json"), "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")
    COUNT[dirname] = COUNT.get(dirname, 0) + 1


def R(name, desc, **kw):
    write("retry", "retry", name, desc, **kw)


def step(at, op, **kw):
    s = {"at": at, "op": op}
    exp = kw.pop("expect", None)
    s.update(kw)
    if exp is not None:
        s["expect"] = exp
    return s


def retry_(at, delay, attempt, report="overloaded"):
    return {"retry": True, "reason": "retry", "delay_ns": delay, "retry_at_ns": at + delay, "attempt": attempt, "report_outcome": report}


def stop(at, reason, attempt, report):
    return {"retry": False, "reason": reason, "delay_ns": 0, "retry_at_ns": at, "attempt": attempt, "report_outcome": report}


NOJ = {"preset": "default", "base_ns": 100 * MS, "max_ns": 10 * S}  # 100, 200, 400 ms ... no jitter

# ---------------------------------------------------------------- retry policy
R("seeds_three_attempts",
  "The seeds' retry(max_attempts=3, ExponentialBackoffStrategy(1 s, 60 s)): begin at 0; attempt 1 fails at 100 ns -> retry after 1 s (attempt 2 at 1e9 + 100); attempt 2 fails at 2e9 -> retry after 2 s (attempt 3); attempt 3 fails at 5e9 -> give up (max_attempts, 3 attempts made) and report OVERLOADED upward (the seeds' rule: when retrying still fails, answer 'overloaded, do not retry').",
  steps=[step(0, "begin", expect={"attempts": 1}),
         step(100, "next", outcome="failure", expect=retry_(100, S, 2)),
         step(2 * S, "next", outcome="failure", expect=retry_(2 * S, 2 * S, 3)),
         step(5 * S, "next", outcome="failure", expect=stop(5 * S, "max_attempts", 3, "overloaded"))])
R("success_stops_and_finishes",
  "A success stops with reason success and reports success; the state is then finished and another next is RSL_ERR_INVALID_ARGUMENT.",
  steps=[step(0, "begin"),
         step(10, "next", outcome="failure", expect=retry_(10, S, 2)),
         step(S + 20, "next", outcome="success", expect=stop(S + 20, "success", 2, "success")),
         step(S + 30, "next", outcome="failure", expect_status="RSL_ERR_INVALID_ARGUMENT")])
R("ignored_is_not_retryable",
  "RSL_OUTCOME_IGNORED (a client error, a cancellation) is not retried and is reported as it is (not as overloaded).",
  steps=[step(0, "begin"), step(5, "next", outcome="ignored", expect=stop(5, "not_retryable", 1, "ignored"))])
R("overloaded_stops_at_once",
  "A dependency answering overloaded (x-rsl-retry: overloaded -> RSL_OUTCOME_OVERLOADED) stops retries even with attempts left, and the layer reports overloaded upward so no layer above retries either.",
  config={"max_attempts": 10},
  steps=[step(0, "begin"), step(1, "next", outcome="failure", expect=retry_(1, S, 2)),
         step(2 * S, "next", outcome="overloaded", expect=stop(2 * S, "overloaded", 2, "overloaded"))])
R("overloaded_on_give_up_off",
  "With overloaded_on_give_up = false a layer that exhausts its attempts reports FAILURE (its caller may retry); a downstream OVERLOADED is still passed up as OVERLOADED.",
  config={"overloaded_on_give_up": False, "max_attempts": 2},
  steps=[step(0, "begin"), step(1, "next", outcome="failure", expect=retry_(1, S, 2, "failure")),
         step(3 * S, "next", outcome="failure", expect=stop(3 * S, "max_attempts", 2, "failure")),
         step(4 * S, "begin"), step(4 * S, "next", outcome="overloaded", expect=stop(4 * S, "overloaded", 1, "overloaded"))])
R("max_attempts_one_never_retries",
  "max_attempts 1 = the original call only.",
  config={"max_attempts": 1},
  steps=[step(0, "begin"), step(7, "next", outcome="failure", expect=stop(7, "max_attempts", 1, "overloaded"))])
R("deadline_boundary",
  "No retry that cannot finish before the deadline: retry only if now + delay + expected_attempt_ns < deadline (a deadline is reached at its instant). Backoff 100 ms; expected 50 ms. Failure at 0 with deadline 150 ms: 0 + 100 + 50 = 150 ms is not < 150 -> give up (deadline). Deadline 150 ms + 1 ns: retry.",
  config={"backoff": NOJ, "expected_attempt_ns": 50 * MS},
  steps=[step(0, "begin", deadline_ns=150 * MS), step(0, "next", outcome="failure", expect=stop(0, "deadline", 1, "overloaded")),
         step(0, "begin", deadline_ns=150 * MS + 1), step(0, "next", outcome="failure", expect=retry_(0, 100 * MS, 2))])
R("deadline_without_expected_duration",
  "expected_attempt_ns 0: the retry must start before the deadline. Begin at 0, deadline 1 s; failure at 700 ms: 700 + 200 (second backoff)... first failure at 700 ms waits 100 ms (800 < 1000, retry); second failure at 850 ms would wait 200 ms -> 1050 >= 1000 -> give up.",
  config={"backoff": NOJ},
  steps=[step(0, "begin", deadline_ns=S), step(700 * MS, "next", outcome="failure", expect=retry_(700 * MS, 100 * MS, 2)),
         step(850 * MS, "next", outcome="failure", expect=stop(850 * MS, "deadline", 2, "overloaded"))])
R("max_elapsed_shortens_delay",
  "failsafe-go WithMaxDuration semantics: give up once more than max_elapsed has passed since begin; otherwise the delay is shortened to what is left. max_elapsed 250 ms, backoff 100/200/400 ms, max_attempts 10. Fail at 0 -> 100 ms; fail at 100 ms -> min(200, 150) = 150 ms; fail at 250 ms (elapsed == limit, not more) -> min(400, 0) = 0 ms; fail at 251 ms -> give up (max_elapsed).",
  config={"backoff": NOJ, "max_elapsed_ns": 250 * MS, "max_attempts": 10},
  steps=[step(0, "begin"), step(0, "next", outcome="failure", expect=retry_(0, 100 * MS, 2)),
         step(100 * MS, "next", outcome="failure", expect=retry_(100 * MS, 150 * MS, 3)),
         step(250 * MS, "next", outcome="failure", expect=retry_(250 * MS, 0, 4)),
         step(251 * MS, "next", outcome="failure", expect=stop(251 * MS, "max_elapsed", 4, "overloaded"))])
R("pushback_exact_and_resets",
  "gRPC A6 pushback: a server delay is used exactly and the backoff restarts from initialBackoff afterwards. Backoff 100 ms x2, no jitter. Fail -> 100 ms (n=1); fail -> 200 ms (n=2); fail with pushback 50 ms -> 50 ms; fail -> 100 ms (n=1 again); fail -> 200 ms.",
  config={"backoff": NOJ, "max_attempts": 10},
  steps=[step(0, "begin"), step(0, "next", outcome="failure", expect=retry_(0, 100 * MS, 2)),
         step(S, "next", outcome="failure", expect=retry_(S, 200 * MS, 3)),
         step(2 * S, "next", outcome="failure", retry_after_ns=50 * MS, expect=retry_(2 * S, 50 * MS, 4)),
         step(3 * S, "next", outcome="failure", expect=retry_(3 * S, 100 * MS, 5)),
         step(4 * S, "next", outcome="failure", expect=retry_(4 * S, 200 * MS, 6))])
R("pushback_without_reset",
  "retry_after_resets = false: the server delay is used exactly but counts as a step of the progression: 100 ms, pushback 50 ms, then 400 ms (n = 3).",
  config={"backoff": NOJ, "max_attempts": 10, "retry_after_resets": False},
  steps=[step(0, "begin"), step(0, "next", outcome="failure", expect=retry_(0, 100 * MS, 2)),
         step(S, "next", outcome="failure", retry_after_ns=50 * MS, expect=retry_(S, 50 * MS, 3)),
         step(2 * S, "next", outcome="failure", expect=retry_(2 * S, 400 * MS, 4))])
R("pushback_refuse",
  "A negative pushback (grpc-retry-pushback-ms: -1, or unparsable) means do not retry: reason server_refused, with attempts left.",
  config={"max_attempts": 5},
  steps=[step(0, "begin"), step(1, "next", outcome="failure", retry_after_ns="refuse", expect=stop(1, "server_refused", 1, "overloaded")),
         step(2, "begin"), step(3, "next", outcome="failure", retry_after_ns=-123, expect=stop(3, "server_refused", 1, "overloaded"))])
R("pushback_zero_retries_now",
  "A pushback of 0 ms retries immediately (delay 0).",
  steps=[step(0, "begin"), step(9, "next", outcome="failure", retry_after_ns=0, expect=retry_(9, 0, 2))])
R("pushback_does_not_extend_attempts",
  "A6: if maxAttempts is exhausted the call is not retried even if the server says retry after a delay.",
  config={"max_attempts": 2},
  steps=[step(0, "begin"), step(0, "next", outcome="failure", expect=retry_(0, S, 2)),
         step(2 * S, "next", outcome="failure", retry_after_ns=10 * MS, expect=stop(2 * S, "max_attempts", 2, "overloaded"))])
R("pushback_beyond_max_elapsed",
  "A server delay is never shortened: with max_elapsed 1 s, a pushback of 2 s at 100 ms (100 ms + 2 s > 1 s) gives up (max_elapsed); a pushback of 900 ms fits exactly (100 + 900 = 1000 <= 1000) and is kept.",
  config={"max_elapsed_ns": S, "max_attempts": 5},
  steps=[step(0, "begin"), step(100 * MS, "next", outcome="failure", retry_after_ns=2 * S, expect=stop(100 * MS, "max_elapsed", 1, "overloaded")),
         step(0, "begin"), step(100 * MS, "next", outcome="failure", retry_after_ns=900 * MS, expect=retry_(100 * MS, 900 * MS, 2))])
R("pushback_against_deadline",
  "The deadline check applies to server delays too: begin at 0 with deadline 1 s; pushback 999 ms at 0 -> retry at 999 ms < 1 s; pushback 1 s -> give up (deadline).",
  steps=[step(0, "begin", deadline_ns=S), step(0, "next", outcome="failure", retry_after_ns=999 * MS, expect=retry_(0, 999 * MS, 2)),
         step(0, "begin", deadline_ns=S), step(0, "next", outcome="failure", retry_after_ns=S, expect=stop(0, "deadline", 1, "overloaded"))])
b = Backoff(config("grpc_retry"), 17)
st = State()
d1 = b.next(1, st)
d2 = b.next(2, st)
d1b = b.next(1, st)
R("grpc_preset_seeded_interleaved",
  "The gRPC preset (4 attempts, 0.1 s x2 -> 1 s, +/-20 %) with seed 17. Two operations share the policy's PRNG: draws are taken in call order, whatever operation asks. Op a retry 1 takes draw 1, op a retry 2 draw 2, op b retry 1 draw 3.",
  preset="grpc", config={"backoff": {"seed": 17}},
  steps=[step(0, "begin", operation="a"), step(0, "begin", operation="b"),
         step(10, "next", operation="a", outcome="failure", expect=retry_(10, d1, 2)),
         step(20, "next", operation="a", outcome="failure", expect=retry_(20, d2, 3)),
         step(30, "next", operation="b", outcome="failure", expect=retry_(30, d1b, 2))])
R("polly_preset",
  "Polly v8 defaults: MaxRetryAttempts 3 (4 attempts), constant 2 s.",
  preset="polly_v8",
  steps=[step(0, "begin"), step(0, "next", outcome="failure", expect=retry_(0, 2 * S, 2)),
         step(2 * S, "next", outcome="failure", expect=retry_(2 * S, 2 * S, 3)),
         step(4 * S, "next", outcome="failure", expect=retry_(4 * S, 2 * S, 4)),
         step(6 * S, "next", outcome="failure", expect=stop(6 * S, "max_attempts", 4, "overloaded"))])
R("resilience4j_preset",
  "Resilience4j RetryConfig defaults: maxAttempts 3 including the first call, waitDuration 500 ms.",
  preset="resilience4j",
  steps=[step(0, "begin"), step(0, "next", outcome="failure", expect=retry_(0, 500 * MS, 2)),
         step(S, "next", outcome="failure", expect=retry_(S, 500 * MS, 3)),
         step(2 * S, "next", outcome="failure", expect=stop(2 * S, "max_attempts", 3, "overloaded"))])
R("failsafe_preset_no_delay",
  "failsafe-go defaults: 2 retries (3 attempts) and no delay.",
  preset="failsafe_go",
  steps=[step(0, "begin"), step(5, "next", outcome="failure", expect=retry_(5, 0, 2)),
         step(6, "next", outcome="failure", expect=retry_(6, 0, 3)),
         step(7, "next", outcome="failure", expect=stop(7, "max_attempts", 3, "overloaded"))])
b = Backoff(config("aws_standard"), 5)
st = State()
a1 = b.next(1, st)
a2 = b.next(2, st)
R("aws_standard_preset_seeded",
  "AWS standard preset (3 attempts, u * 2^n s up to 20 s) seeded 5: retry 1 in [0, 2 s), retry 2 in [0, 4 s).",
  preset="aws_standard", config={"backoff": {"seed": 5}},
  steps=[step(0, "begin"), step(0, "next", outcome="failure", expect=dict(retry_(0, a1, 2), min_delay_ns=0, below_delay_ns=2 * S)),
         step(3 * S, "next", outcome="failure", expect=dict(retry_(3 * S, a2, 3), below_delay_ns=4 * S)),
         step(8 * S, "next", outcome="failure", expect=stop(8 * S, "max_attempts", 3, "overloaded"))])
R("time_going_back",
  "A next earlier than begin is legal: elapsed saturates below zero and is treated as nothing spent (max_elapsed 1 s still allows a full 100 ms delay; retry_at = now + delay).",
  config={"backoff": NOJ, "max_elapsed_ns": S},
  steps=[step(10 * S, "begin"), step(5 * S, "next", outcome="failure", expect=retry_(5 * S, 100 * MS, 2))])
R("decorrelated_state_per_operation",
  "The backoff state lives in each operation's rsl_retry_state: two operations with AWS decorrelated jitter (seed 3) each start from sleep = base.",
  config={"backoff": {"preset": "aws_decorrelated", "seed": 3}},
  steps=[step(0, "begin", operation="a"), step(0, "begin", operation="b")] + (lambda: (
      lambda bb, sa, sb: [step(1, "next", operation="a", outcome="failure", expect={"delay_ns": bb.next(1, sa)}),
                          step(2, "next", operation="a", outcome="failure", expect={"delay_ns": bb.next(2, sa)}),
                          step(3, "next", operation="b", outcome="failure", expect={"delay_ns": bb.next(1, sb)})])(Backoff(config("aws_decorrelated"), 3), State(), State()))())
R("wire_header_parse",
  "x-rsl-retry parsing: 'overloaded' in any ASCII case, with whitespace, or as one token of a comma list means RSL_OUTCOME_OVERLOADED; absent, empty or unknown values mean a plain FAILURE (forward compatible).",
  steps=[step(0, "parse_header", value="overloaded", expect={"outcome": "overloaded"}),
         step(0, "parse_header", value=" OverLoaded\t", expect={"outcome": "overloaded"}),
         step(0, "parse_header", value="future-token, overloaded", expect={"outcome": "overloaded"}),
         step(0, "parse_header", value="overloaded-later", expect={"outcome": "failure"}),
         step(0, "parse_header", value="", expect={"outcome": "failure"}),
         step(0, "parse_header", value=None, expect={"outcome": "failure"}),
         step(0, "header_name", expect={"value": "x-rsl-retry"})])
R("wire_header_format",
  "The value to send: 'overloaded' for RSL_OUTCOME_OVERLOADED, no header (NULL) for the others; outcome 9 is RSL_ERR_INVALID_ARGUMENT.",
  steps=[step(0, "format_header", outcome="overloaded", expect={"value": "overloaded"}),
         step(0, "format_header", outcome="failure", expect={"value": None}),
         step(0, "format_header", outcome="success", expect={"value": None}),
         step(0, "format_header", outcome=9, expect_status="RSL_ERR_INVALID_ARGUMENT")])
R("wire_grpc_pushback_parse",
  "grpc-retry-pushback-ms (A6: signed 32-bit ms; negative or unparsable = do not retry), parsed like grpc-go's strconv.Atoi within int32: '250' -> 250 ms; '0' -> 0; '+007' -> 7 ms; '-0' -> 0; '2147483647' -> 2147483647 ms; '-1', '2147483648', '1.5', ' 1', '' -> refuse; absent -> none.",
  steps=[step(0, "parse_pushback", value="250", expect={"retry_after_ns": 250 * MS}),
         step(0, "parse_pushback", value="0", expect={"retry_after_ns": 0}),
         step(0, "parse_pushback", value="+007", expect={"retry_after_ns": 7 * MS}),
         step(0, "parse_pushback", value="-0", expect={"retry_after_ns": 0}),
         step(0, "parse_pushback", value="2147483647", expect={"retry_after_ns": 2147483647 * MS}),
         step(0, "parse_pushback", value="-1", expect={"retry_after_ns": "refuse"}),
         step(0, "parse_pushback", value="2147483648", expect={"retry_after_ns": "refuse"}),
         step(0, "parse_pushback", value="1.5", expect={"retry_after_ns": "refuse"}),
         step(0, "parse_pushback", value=" 1", expect={"retry_after_ns": "refuse"}),
         step(0, "parse_pushback", value="", expect={"retry_after_ns": "refuse"}),
         step(0, "parse_pushback", value=None, expect={"retry_after_ns": "none"})])
R("wire_http_retry_after_parse",
  "HTTP Retry-After delay-seconds: '120' -> 120 s; ' 3 ' -> 3 s; '0' -> 0; an HTTP-date, '-5', '1.5' or absent -> none (the backoff decides).",
  steps=[step(0, "parse_http_retry_after", value="120", expect={"retry_after_ns": 120 * S}),
         step(0, "parse_http_retry_after", value=" 3 ", expect={"retry_after_ns": 3 * S}),
         step(0, "parse_http_retry_after", value="0", expect={"retry_after_ns": 0}),
         step(0, "parse_http_retry_after", value="Wed, 21 Oct 2015 07:28:00 GMT", expect={"retry_after_ns": "none"}),
         step(0, "parse_http_retry_after", value="-5", expect={"retry_after_ns": "none"}),
         step(0, "parse_http_retry_after", value="1.5", expect={"retry_after_ns": "none"}),
         step(0, "parse_http_retry_after", value=None, expect={"retry_after_ns": "none"})])
R("bad_call_arguments",
  "next before begin, an unknown outcome (7), unknown flag bits (4) and a wrong state.struct_size are errors, not decisions.",
  steps=[step(0, "next", outcome="failure", expect_status="RSL_ERR_INVALID_ARGUMENT"),
         step(0, "begin"),
         step(0, "next", outcome=7, expect_status="RSL_ERR_INVALID_ARGUMENT"),
         step(0, "next", outcome="failure", flags=4, expect_status="RSL_ERR_INVALID_ARGUMENT"),
         step(0, "next", outcome="failure", expect=retry_(0, S, 2)),
         step(0, "begin", operation="small", state_size=8, expect_status="RSL_ERR_CONFIG_SIZE")])
R("budget_grpc_tokens_throttle",
  "A shared gRPC retryThrottling budget (maxTokens 10, tokenRatio 0.1) under a policy of 10 attempts with 1 ms backoff: every failed attempt takes a token before the retry check; retries are allowed while tokens > 5. Tokens 10 -> 9, 8, 7, 6 (retries 1-4 allowed) -> 5 after the 5th failure: not > 5, so the 5th retry is refused (reason budget).",
  config={"max_attempts": 10, "backoff": {"preset": "seeds_fixed", "base_ns": MS}, "budget": {"preset": "grpc"}},
  steps=[step(0, "begin")] + [step(k, "next", outcome="failure", expect=retry_(k, MS, k + 1)) for k in range(1, 5)] +
  [step(5, "next", outcome="failure", expect=stop(5, "budget", 5, "overloaded")),
   step(6, "budget_metrics", expect={"tokens": 5000, "available": 0, "granted_total": 4, "denied_total": 1})])
R("budget_aws_quota_costs_and_refunds",
  "AWS retry quota (500 tokens): a retry costs 5, after a timeout 10; a successful retry refunds its cost; a first-attempt success adds 1. Op 1: fail (timeout) -> retry (500-10 = 490); the retry succeeds -> refund 10 -> 500. Op 2: fail -> retry (495); fails again -> retry (490); succeeds -> refund 5 -> 495. Op 3: succeeds first time -> +1 -> 496.",
  config={"max_attempts": 3, "backoff": {"preset": "seeds_fixed", "base_ns": MS}, "budget": {"preset": "aws_standard"}},
  steps=[step(0, "begin"), step(1, "next", outcome="failure", timeout=True, expect=retry_(1, MS, 2)),
         step(1, "budget_metrics", expect={"tokens": 490}),
         step(2, "next", outcome="success", expect=stop(2, "success", 2, "success")),
         step(2, "budget_metrics", expect={"tokens": 500}),
         step(3, "begin"), step(4, "next", outcome="failure", expect=retry_(4, MS, 2)),
         step(5, "next", outcome="failure", expect=retry_(5, MS, 3)),
         step(5, "budget_metrics", expect={"tokens": 490}),
         step(6, "next", outcome="success", expect=stop(6, "success", 3, "success")),
         step(6, "budget_metrics", expect={"tokens": 495}),
         step(7, "begin"), step(8, "next", outcome="success", expect=stop(8, "success", 1, "success")),
         step(8, "budget_metrics", expect={"tokens": 496, "deposits_total": 3, "granted_total": 3})])
R("budget_ratio_shared",
  "A ratio budget (20 %, no floor) shared by operations: begin deposits one request each. After 5 begins, 1 retry fits (0.2 * 5 = 1); a second operation's retry is refused (reason budget) and reports overloaded.",
  config={"max_attempts": 5, "backoff": {"preset": "seeds_fixed", "base_ns": MS}, "budget": {"preset": "tower", "min_per_sec": 0}},
  steps=[step(0, "begin", operation=o) for o in "abcde"] +
  [step(1, "next", operation="a", outcome="failure", expect=retry_(1, MS, 2)),
   step(2, "next", operation="b", outcome="failure", expect=stop(2, "budget", 1, "overloaded")),
   step(3, "budget_metrics", expect={"requests": 5, "retries": 1, "available": 0})])
R("budget_checked_last",
  "The budget is asked only when every other check allows the retry: a deadline refusal does not charge the quota (tokens stay 500).",
  config={"budget": {"preset": "aws_standard"}},
  steps=[step(0, "begin", deadline_ns=10), step(0, "next", outcome="failure", expect=stop(0, "deadline", 1, "overloaded")),
         step(0, "budget_metrics", expect={"tokens": 500, "granted_total": 0, "denied_total": 0})])
R("bad_config_max_attempts_zero", "max_attempts must be >= 1.", config={"max_attempts": 0}, expect_status="RSL_ERR_INVALID_CONFIG", field="max_attempts")
R("bad_config_max_elapsed_negative", "max_elapsed_ns must be >= 0 (0 = no limit).", config={"max_elapsed_ns": -1}, expect_status="RSL_ERR_INVALID_CONFIG", field="max_elapsed_ns")
R("bad_config_expected_attempt_negative", "expected_attempt_ns must be >= 0.", config={"expected_attempt_ns": -5}, expect_status="RSL_ERR_INVALID_CONFIG", field="expected_attempt_ns")
R("bad_config_resets_flag", "retry_after_resets is a boolean (true/false in JSON); 2 is refused.", config={"retry_after_resets": 2}, expect_status="RSL_ERR_INVALID_CONFIG", field="retry_after_resets")
R("bad_config_overloaded_flag", "overloaded_on_give_up is a boolean (true/false in JSON); 3 is refused.", config={"overloaded_on_give_up": 3}, expect_status="RSL_ERR_INVALID_CONFIG", field="overloaded_on_give_up")
R("bad_config_backoff_invalid", "The policy's backoff config is read and validated too: kind 42 is refused, naming the field by its full path.", config={"backoff": {"kind": 42}}, expect_status="RSL_ERR_INVALID_CONFIG", field="backoff.kind")
R("bad_config_struct_size", "struct_size 4 is smaller than any layout.", config={"struct_size": 4}, expect_status="RSL_ERR_CONFIG_SIZE", field="cfg.struct_size")


# ---------------------------------------------------------------- budgets
def B(family, name, desc, **kw):
    write(os.path.join("retry_budget", family), "retry_budget", name, desc, **kw)


def W(at, granted, **kw):
    e = {"granted": granted}
    e.update(kw.pop("expect", {}))
    return step(at, "withdraw", expect=e, **kw)


def badb(family, name, field, desc, preset, status="RSL_ERR_INVALID_CONFIG", **over):
    B(family, "bad_config_" + name, desc, preset=preset, config=over, expect_status=status, field=field)


K = "ratio"
B(K, "tower_reserve", "tower TpsBudget::default() = (ttl 10 s, min_per_sec 10, 20 %): with no deposits the reserve min_per_sec * window = 10 * 10 = 100 retries is all there is: 100 withdrawals granted at t = 0, the 101st denied.",
  preset="tower", steps=[W(0, True, repeat=100), W(0, False), step(0, "metrics", expect={"retries": 100, "available": 0, "granted_total": 100, "denied_total": 1})])
B(K, "ratio_twenty_percent", "20 % without a floor: 10 deposits allow exactly 2 retries (2 * 1e6 <= 10 * 200000 micro-retries); the 3rd is denied.",
  preset="tower", config={"min_per_sec": 0}, steps=[step(0, "deposit", repeat=10), W(1, True), W(1, True), W(1, False)])
B(K, "ratio_exact_thirty_percent", "ratio 0.3 is exact here: 10 deposits -> 3 retries (tower would truncate 1/0.3 to a withdraw cost of 3 and allow 3.33 per 10).",
  preset="tower", config={"min_per_sec": 0, "ratio": 0.3}, steps=[step(0, "deposit", repeat=10), W(1, True, repeat=3), W(1, False)])
B(K, "ratio_integer_exactness", "ratio 0.57 and 100 deposits: 57 retries exactly (0.57 * 100 in doubles is 56.99999999999999; we count in micro-retries: 100 * 570000 = 57e6).",
  preset="tower", config={"min_per_sec": 0, "ratio": 0.57}, steps=[step(0, "deposit", repeat=100), W(1, True, repeat=57), W(1, False)])
B(K, "window_expiry", "10 s window in 10 one-second buckets aligned to the epoch: deposits at t = 0 s count until the window moves past bucket 0, i.e. until t = 10 s. 5 deposits at 0 (20 %, no floor): at 9.999999999 s one retry fits; at 10 s the deposits are gone and another is denied.",
  preset="tower", config={"min_per_sec": 0}, steps=[step(0, "deposit", repeat=5), W(9999999999, True), step(10 * S, "metrics", expect={"requests": 0, "retries": 1}), W(10 * S, False)])
B(K, "retries_expire_too", "Granted retries leave the window like deposits: reserve 10 (min 1/s over 10 s): 10 retries at t = 0 exhaust it; at t = 10 s they have expired and 10 more fit.",
  preset="tower", config={"min_per_sec": 1}, steps=[W(0, True, repeat=10), W(0, False), W(10 * S, True, repeat=10), W(10 * S, False)])
B(K, "fractional_window_reserve", "window 1.5 s in 10 buckets, min_per_sec 3: reserve = floor(3 * 1.5) = 4 retries (tower would use whole seconds of ttl: 3).",
  preset="tower", config={"window_ns": 1500 * MS, "min_per_sec": 3, "ratio": 0.0}, steps=[W(0, True, repeat=4), W(0, False)])
B(K, "ratio_zero_reserve_only", "ratio 0: deposits earn nothing (tower: deposit 0, withdraw 1); only the reserve (min 2/s * 10 s = 20) can be spent.",
  preset="tower", config={"ratio": 0.0, "min_per_sec": 2}, steps=[step(0, "deposit", repeat=50), W(0, True, repeat=20), W(0, False)])
B(K, "ratio_above_one", "ratio 2.0 (tower allows up to 1000): every deposit allows 2 retries: 3 deposits -> 6 retries.",
  preset="tower", config={"ratio": 2.0, "min_per_sec": 0}, steps=[step(0, "deposit", repeat=3), W(0, True, repeat=6), W(0, False)])
B(K, "sre_ten_percent", "The SRE book's per-client budget (10 %, no floor): 9 requests allow no retry (0.9 < 1); the 10th request makes room for one.",
  preset="sre", steps=[step(0, "deposit", repeat=9), W(0, False), step(0, "deposit"), W(0, True), W(0, False)])
B(K, "envoy_numbers", "Envoy's retry_budget numbers (20 %, min 3) as a ratio budget: the floor is 3 retries per second, 30 over the 10 s window; 10 deposits add 2.",
  preset="envoy", steps=[step(0, "deposit", repeat=10), W(0, True, repeat=32), W(0, False)])
B(K, "failsafe_go_numbers", "failsafe-go's budget numbers (0.2, min 3) as a ratio budget: 30 retries of floor over 10 s, plus 20 % of 20 deposits = 4.",
  preset="failsafe_go", steps=[step(0, "deposit", repeat=20), W(0, True, repeat=34), W(0, False), step(0, "metrics", expect={"requests": 20, "retries": 34})])
B(K, "time_going_back", "A timestamp earlier than the newest bucket counts in the newest bucket: deposits at 5 s, then a withdrawal stamped 1 s still sees them (2 deposits * 0.5 = 1 retry).",
  preset="tower", config={"ratio": 0.5, "min_per_sec": 0}, steps=[step(5 * S, "deposit", repeat=2), W(1 * S, True), W(1 * S, False)])
B(K, "metrics", "Metrics: requests and retries in the window and the retries still available: 10 deposits at 20 % + reserve 1/s * 10 s = 12; after 3 retries 9 remain.",
  preset="tower", config={"min_per_sec": 1}, steps=[step(0, "deposit", repeat=10), W(0, True, repeat=3),
                                                    step(0, "metrics", expect={"requests": 10, "retries": 3, "available": 9, "deposits_total": 10, "granted_total": 3, "denied_total": 0, "tokens": 0})])
B(K, "record_is_neutral", "Recording outcomes changes nothing for a ratio budget: 5 deposits at 20 %, a failed and a successful record, still exactly 1 retry.",
  preset="tower", config={"min_per_sec": 0}, steps=[step(0, "deposit", ticket="t", repeat=5), step(0, "record", ticket="t", outcome="failure"),
                                                    step(0, "record", ticket="t", outcome="success"), W(0, True), W(0, False)])
B(K, "denied_do_not_count", "A denied withdrawal takes nothing: with 1 retry of room, 5 denials later a new deposit batch (5 more at 20 %) makes exactly one more fit.",
  preset="tower", config={"min_per_sec": 0}, steps=[step(0, "deposit", repeat=5), W(0, True), W(0, False, repeat=5), step(0, "deposit", repeat=5), W(0, True), W(0, False)])
B(K, "sliding_buckets", "tower's tps_slots test in our terms (1 s window in 10 buckets of 100 ms, 50 %, no floor): 2 deposits at 0 allow one retry at 900 ms; then deposits at 3 s, 3.3 s, 4.1 s: at 4.1 s the window holds buckets 3.2..4.1 s, so the 3.0 s deposit has left and two remain: one retry.",
  preset="tower", config={"window_ns": S, "ratio": 0.5, "min_per_sec": 0},
  steps=[step(0, "deposit", repeat=2), W(900 * MS, True), step(3 * S, "deposit"), step(3300 * MS, "deposit"), step(4100 * MS, "deposit"),
         step(4100 * MS, "metrics", expect={"requests": 2}), W(4100 * MS, True), W(4100 * MS, False)])
B(K, "bad_flags", "Unknown flag bits on a withdrawal are RSL_ERR_INVALID_ARGUMENT; an unknown outcome on record too.",
  preset="tower", steps=[step(0, "withdraw", flags=6, expect_status="RSL_ERR_INVALID_ARGUMENT"), step(0, "deposit", ticket="t"),
                         step(0, "record", ticket="t", outcome=11, expect_status="RSL_ERR_INVALID_ARGUMENT")])
badb(K, "ratio_negative", "ratio", "ratio must be in [0, 1000].", "tower", ratio=-0.1)
badb(K, "ratio_too_large", "ratio", "ratio must be in [0, 1000] (tower's limit).", "tower", ratio=1000.5)
badb(K, "window_zero", "window_ns", "window_ns must be > 0.", "tower", window_ns=0)
badb(K, "buckets_zero", "buckets", "buckets must be in [1, 65536].", "tower", buckets=0)
badb(K, "buckets_too_many", "buckets", "buckets must be in [1, 65536].", "tower", buckets=65537, window_ns=65537 * 1000)
badb(K, "window_not_multiple", "window_ns", "window_ns must be a multiple of buckets.", "tower", window_ns=10 * S + 1)
badb(K, "kind_unknown", "kind", "kind 9 is unknown.", "tower", kind=9)
badb(K, "reserved_nonzero", "reserved0", "reserved0 must be 0.", "tower", reserved0=1)
badb(K, "struct_size", "cfg.struct_size", "struct_size 16 is smaller than the layout.", "tower", status="RSL_ERR_CONFIG_SIZE", struct_size=16)

K = "tokens"
B(K, "a6_example", "gRFC A6 retryThrottling {maxTokens 10, tokenRatio 0.1}: token_count starts at 10 (10000 milli-tokens); each failure -1; retries allowed while token_count > maxTokens / 2 = 5. After 4 failures (6 tokens) a retry is allowed; after the 5th (5 tokens) it is throttled.",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=4), W(0, True),
                        step(0, "record", ticket="t", outcome="failure"), W(0, False), step(0, "metrics", expect={"tokens": 5000, "available": 0})])
B(K, "success_refills", "Each success adds tokenRatio: from 5 tokens (throttled) one success gives 5.1 > 5: allowed again.",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=5), W(0, False),
                        step(0, "record", ticket="t", outcome="success"), step(0, "metrics", expect={"tokens": 5100, "available": 1}), W(0, True)])
B(K, "capped_at_max", "token_count never exceeds maxTokens: successes at 10 tokens keep it at 10000 milli-tokens.",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="success", repeat=7), step(0, "metrics", expect={"tokens": 10000})])
B(K, "floored_at_zero", "token_count never goes below 0: 25 failures leave 0; 51 successes of 0.1 bring it to 5.1 (> 5).",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=25), step(0, "metrics", expect={"tokens": 0}),
                        step(0, "record", ticket="t", outcome="success", repeat=50), W(0, False), step(0, "record", ticket="t", outcome="success"), W(0, True)])
B(K, "token_ratio_three_decimals", "A6: decimals of tokenRatio beyond 3 are ignored: 0.5466 is 0.546 (546 milli-tokens per success). From 0 (after 10 failures) one success gives 546.",
  preset="grpc", config={"token_ratio": 0.5466}, steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=10),
                                                       step(0, "record", ticket="t", outcome="success"), step(0, "metrics", expect={"tokens": 546})])
B(K, "max_tokens_one", "maxTokens 1: threshold 0.5 token; one failure -> 0 (throttled); two successes of 0.3 -> 0.6 > 0.5 (allowed).",
  preset="grpc", config={"max_tokens": 1, "token_ratio": 0.3}, steps=[step(0, "deposit", ticket="t"), W(0, True), step(0, "record", ticket="t", outcome="failure"), W(0, False),
                                                                     step(0, "record", ticket="t", outcome="success"), W(0, False), step(0, "record", ticket="t", outcome="success"), W(0, True)])
B(K, "odd_max_tokens", "maxTokens 3: threshold 1.5: one failure (2 > 1.5) allowed, two failures (1) throttled.",
  preset="grpc", config={"max_tokens": 3}, steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure"), W(0, True),
                                                   step(0, "record", ticket="t", outcome="failure"), W(0, False)])
B(K, "ignored_changes_nothing", "A6 counts only retryable failures (and don't-retry pushbacks); an ignored outcome (e.g. INVALID_ARGUMENT) changes nothing.",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="ignored", repeat=20), step(0, "metrics", expect={"tokens": 10000})])
B(K, "overloaded_counts_as_failure", "An overloaded answer counts as a failure: 5 of them throttle.",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="overloaded", repeat=5), W(0, False)])
B(K, "withdraw_does_not_consume", "Retries are checked, not charged: at 10 tokens any number of withdrawals is granted.",
  preset="grpc", steps=[W(0, True, repeat=100), step(0, "metrics", expect={"tokens": 10000, "granted_total": 100})])
B(K, "threshold_inclusive", "Throttled when token_count <= maxTokens/2 (equality throttles): maxTokens 4, two failures -> exactly 2 -> denied; one success of 0.001 -> 2.001 -> allowed.",
  preset="grpc", config={"max_tokens": 4, "token_ratio": 0.001}, steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=2), W(0, False),
                                                                       step(0, "record", ticket="t", outcome="success"), W(0, True)])
B(K, "deposit_changes_nothing", "Deposits (original requests) do not change the token count; only outcomes do.",
  preset="grpc", steps=[step(0, "deposit", repeat=30), step(0, "metrics", expect={"tokens": 10000, "deposits_total": 30})])
B(K, "max_tokens_1000", "maxTokens 1000 (A6's largest): threshold 500: 499 failures leave 501 (allowed), the 500th leaves 500 (throttled).",
  preset="grpc", config={"max_tokens": 1000}, steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=499), W(0, True),
                                                      step(0, "record", ticket="t", outcome="failure"), W(0, False)])
B(K, "time_independent", "Throttling has no time window: tokens lost at t = 0 are still lost at t = 1 hour.",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=5), W(3600 * S, False)])
B(K, "retry_tickets_record_too", "A granted retry's ticket records its outcome like any attempt: a retry that fails takes a token.",
  preset="grpc", steps=[step(0, "deposit", ticket="t"), step(0, "record", ticket="t", outcome="failure", repeat=4), W(0, True, ticket="r"),
                        step(0, "record", ticket="r", outcome="failure"), W(0, False)])
badb(K, "max_tokens_zero", "max_tokens", "A6: maxTokens in (0, 1000].", "grpc", max_tokens=0)
badb(K, "max_tokens_above_1000", "max_tokens", "A6: maxTokens in (0, 1000].", "grpc", max_tokens=1001)
badb(K, "token_ratio_zero", "token_ratio", "A6: tokenRatio > 0.", "grpc", token_ratio=0.0)
badb(K, "token_ratio_negative", "token_ratio", "A6: tokenRatio > 0.", "grpc", token_ratio=-1.0)
badb(K, "token_ratio_truncates_to_zero", "token_ratio", "0.0009 is 0 once decimals beyond 3 are dropped.", "grpc", token_ratio=0.0009)

K = "quota"
B(K, "aws_capacity", "AWS standard retry quota: 500 tokens, a retry costs 5: exactly 100 retries, the 101st denied.",
  preset="aws_standard", steps=[W(0, True, repeat=100, expect={"cost": 5}), W(0, False), step(0, "metrics", expect={"tokens": 0, "available": 0})])
B(K, "timeout_cost", "After a timeout a retry costs 10: 50 retries.",
  preset="aws_standard", steps=[W(0, True, timeout=True, repeat=50, expect={"cost": 10}), W(0, False, timeout=True), W(0, False)])
B(K, "successful_retry_refunds", "A retry that succeeds gives its cost back: 500 -5 = 495, success -> 500.",
  preset="aws_standard", steps=[W(0, True, ticket="r"), step(0, "metrics", expect={"tokens": 495}), step(1, "record", ticket="r", outcome="success"), step(1, "metrics", expect={"tokens": 500})])
B(K, "failed_retry_keeps_cost", "A retry that fails does not refund: 495 stays.",
  preset="aws_standard", steps=[W(0, True, ticket="r"), step(1, "record", ticket="r", outcome="failure"), step(1, "metrics", expect={"tokens": 495})])
B(K, "first_attempt_success_increment", "A success on the first attempt adds NoRetryIncrement = 1 (capped): after two retries (490), three first-attempt successes -> 493.",
  preset="aws_standard", steps=[W(0, True, repeat=2), step(0, "deposit", ticket="o"), step(0, "record", ticket="o", outcome="success", repeat=3), step(0, "metrics", expect={"tokens": 493})])
B(K, "capped_at_capacity", "Increments never exceed the capacity: 10 first-attempt successes at 500 stay at 500.",
  preset="aws_standard", steps=[step(0, "deposit", ticket="o"), step(0, "record", ticket="o", outcome="success", repeat=10), step(0, "metrics", expect={"tokens": 500})])
B(K, "exact_boundary", "A retry is granted when tokens >= cost: capacity 12, cost 5: 12 -> 7 -> 2; the third (2 < 5) is denied; a timeout retry (10) at 7 tokens would be denied too.",
  preset="aws_standard", config={"quota_capacity": 12}, steps=[W(0, True), step(0, "metrics", expect={"tokens": 7}), W(0, False, timeout=True), W(0, True), W(0, False)])
B(K, "refund_capped", "A refund cannot exceed the capacity: take 5 (495), add 10 first-attempt successes (500, capped), then the retry succeeds: still 500.",
  preset="aws_standard", steps=[W(0, True, ticket="r"), step(0, "deposit", ticket="o"), step(0, "record", ticket="o", outcome="success", repeat=10),
                                step(0, "record", ticket="r", outcome="success"), step(0, "metrics", expect={"tokens": 500})])
B(K, "other_outcomes_change_nothing", "Ignored and overloaded outcomes neither refund nor add.",
  preset="aws_standard", steps=[W(0, True, ticket="r"), step(0, "record", ticket="r", outcome="ignored"), step(0, "record", ticket="r", outcome="overloaded"),
                                step(0, "deposit", ticket="o"), step(0, "record", ticket="o", outcome="failure"), step(0, "metrics", expect={"tokens": 495})])
B(K, "empty_ticket_records_nothing", "A denied withdrawal hands back an empty ticket (kind 0); recording it does nothing. Capacity 9: one retry (4 left), the next is denied; recording its empty ticket as a success refunds nothing.",
  preset="aws_standard", config={"quota_capacity": 9, "timeout_cost": 9}, steps=[W(0, True), W(0, False, ticket="none", expect={"ticket_kind": 0, "cost": 0}), step(0, "record", ticket="none", outcome="success"),
                                                                                step(0, "metrics", expect={"tokens": 4})])
B(K, "aws_2026_cost", "The 2026 retry update (opt-in) raises the transient retry cost to 14: 500 // 14 = 35 retries.",
  preset="aws_standard", config={"retry_cost": 14}, steps=[W(0, True, repeat=35), W(0, False), step(0, "metrics", expect={"tokens": 10})])
B(K, "metrics_available", "available = tokens / retry_cost: 500 / 5 = 100; after 3 retries 485 / 5 = 97.",
  preset="aws_standard", steps=[step(0, "metrics", expect={"available": 100, "tokens": 500}), W(0, True, repeat=3), step(0, "metrics", expect={"available": 97, "granted_total": 3})])
B(K, "denied_changes_nothing", "Denials take nothing and are counted: capacity 7, one retry (2 left), 4 denials, still 2.",
  preset="aws_standard", config={"quota_capacity": 7, "timeout_cost": 7}, steps=[W(0, True), W(0, False, repeat=4), step(0, "metrics", expect={"tokens": 2, "denied_total": 4})])
B(K, "success_increment_zero", "success_increment 0: first-attempt successes add nothing.",
  preset="aws_standard", config={"success_increment": 0}, steps=[W(0, True), step(0, "deposit", ticket="o"), step(0, "record", ticket="o", outcome="success"), step(0, "metrics", expect={"tokens": 495})])
B(K, "tickets", "Tickets: a deposit gives an ORIGINAL ticket (kind 1) without cost; a withdrawal a RETRY ticket (kind 2) with its cost.",
  preset="aws_standard", steps=[step(0, "deposit", expect={"ticket_kind": 1}), W(0, True, timeout=True, expect={"ticket_kind": 2, "cost": 10})])
B(K, "time_independent", "The quota has no time window: tokens taken at 0 are still gone at t = 1 day.",
  preset="aws_standard", config={"quota_capacity": 5, "timeout_cost": 5}, steps=[W(0, True), W(86400 * S, False)])
badb(K, "capacity_zero", "quota_capacity", "the quota must hold at least one token.", "aws_standard", quota_capacity=0)
badb(K, "retry_cost_zero", "retry_cost", "a free retry would make the quota meaningless.", "aws_standard", retry_cost=0)
badb(K, "retry_cost_above_capacity", "retry_cost", "a retry costing more than the capacity could never be granted.", "aws_standard", quota_capacity=4)
badb(K, "timeout_cost_zero", "timeout_cost", "timeout_cost must be >= 1.", "aws_standard", timeout_cost=0)
badb(K, "success_increment_above_capacity", "success_increment", "success_increment must be <= quota_capacity.", "aws_standard", success_increment=501)

print(COUNT)
