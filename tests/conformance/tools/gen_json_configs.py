"""Writes tests/conformance/<primitive>/json/*.json: the JSON config format
(docs/semantics.md, "Configs as JSON") for every primitive with a config —
the errors it reports, naming the key, and durations with units read exactly
as the `_ns` integers (a copy of an existing scenario with its durations
rewritten with units must pass unchanged). Run from the repository root:
    python3 tests/conformance/tools/gen_json_configs.py
"""
import copy
import json
import os

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..")
COUNT = {}

UNITS = [("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
         ("ms", 1_000_000), ("us", 1_000), ("ns", 1)]


def with_unit(ns):
    """A duration string for `ns` nanoseconds: the largest unit it is a whole
    number of, or seconds with a fraction when that is shorter."""
    if ns == 0:
        return "0s"
    for unit, scale in UNITS:
        if ns % scale == 0:
            whole = f"{ns // scale}{unit}"
            break
    if ns % 1_000_000 == 0 and ns % 1_000_000_000 != 0 and ns > 1_000_000_000:
        s, frac = divmod(ns, 1_000_000_000)
        fraction = f"{s}.{frac:09d}".rstrip("0") + "s"
        if len(fraction) < len(whole):
            return fraction
    return whole


def to_units(cfg, shown, prefix=""):
    """`cfg` with every integer `*_ns` key (nested ones too) written with a
    unit; appends `"key": "value"` of each rewritten key to `shown`."""
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            out[k] = to_units(v, shown, prefix + k + ".")
        elif k.endswith("_ns") and isinstance(v, int) and not isinstance(v, bool):
            out[k[:-3]] = with_unit(v)
            shown.append(f'"{prefix}{k[:-3]}": "{out[k[:-3]]}" for {v} ns')
        else:
            out[k] = v
    return out


def write(primitive, name, description, config=None, preset=None, steps=None, status=None, field=None):
    d = {"primitive": primitive, "description": description}
    if preset is not None:
        d["preset"] = preset
    if config is not None:
        d["config"] = config
    if status:
        d["expect_status"] = status
        d["expect_error_field"] = field
    d["steps"] = steps or []
    path = os.path.join(ROOT, primitive, "json")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name + ".json"), "w") as f:
        json.dump(d, f, indent=2, ensure_ascii=False)
        f.write("\n")
    COUNT[primitive] = COUNT.get(primitive, 0) + 1


def bad(primitive, name, description, field, config=None, preset=None):
    write(primitive, name, description, config=config, preset=preset,
          status="RSL_ERR_INVALID_CONFIG", field=field)


def with_units_copy(primitive, source):
    """Copies `source` (a scenario path under tests/conformance) with its
    config's durations rewritten with units."""
    with open(os.path.join(ROOT, source)) as f:
        d = json.load(f)
    assert d["primitive"] == primitive, source
    shown = []
    units = to_units(d["config"], shown)
    assert shown, source
    shown = ", ".join(shown)
    base = os.path.splitext(os.path.basename(source))[0]
    desc = (f"{source} with its durations written with units ({shown}): the JSON config reads "
            f"them exactly as the _ns integers, so every step passes unchanged. {d['description']}")
    write(primitive, "units_" + base, desc, config=units, preset=d.get("preset"),
          steps=copy.deepcopy(d["steps"]))


# Per primitive: a duration field (its _ns name), an enum field and a good
# name for it (None when the config has none), a type error (key, value,
# what it shows), and an existing scenario to copy with units.
PRIMITIVES = {
    "breaker": dict(duration="wait_duration_ns", enum=("policy", "rate"),
                    wrong=[("consecutive_failures", "five", "an integer given as a word"),
                           ("evaluate_on_failure_only", 1, "a boolean given as 1")],
                    copies=["breaker/consecutive/seeds_python_example.json",
                            "breaker/rate/slow_call_rate_trips.json"]),
    "adaptive_throttle": dict(duration="window_ns", enum=("accounting", "on_completion"),
                              wrong=[("k", "two", "a double given as a word"),
                                     ("count_local_rejections", 0, "a boolean given as 0")],
                              copies=["adaptive_throttle/window_expiry.json"]),
    "token_bucket": dict(duration=None, enum=None,
                         wrong=[("burst", 1.5, "an integer with a fraction"),
                                ("rate_per_sec", "fast", "a double given as a word")],
                         copies=[]),
    "leaky_bucket": dict(duration="per_ns", enum=("mode", "meter"),
                         wrong=[("rate", True, "an integer given as a boolean")],
                         copies=["leaky_bucket/pacer_no_slack/per_minute.json",
                                 "leaky_bucket/meter/per_minute_continuous.json"]),
    "window_limiter": dict(duration="window_ns", enum=("mode", "fixed"),
                           wrong=[("limit", "lots", "an integer given as a word")],
                           copies=["window_limiter/fixed/boundary_exact_ns.json"]),
    "adaptive_limiter": dict(duration="cooldown_ns", enum=("cpu_source", "manual"),
                             wrong=[("count_failures", 1, "a boolean given as 1"),
                                    ("buckets", [10], "an integer given as an array")],
                             copies=["adaptive_limiter/cooldown_exact_ns.json"]),
    "backoff": dict(duration="base_ns", enum=("kind", "linear"),
                    wrong=[("factor", "double", "a double given as a word"),
                           ("clamp_jittered", "yes", "a boolean given as a word")],
                    copies=["backoff/fixed_linear_exponential/linear_increment_and_cap.json"]),
    "retry": dict(duration="max_elapsed_ns", enum=None,
                  wrong=[("max_attempts", 3.5, "an integer with a fraction"),
                         ("retry_after_resets", 1, "a boolean given as 1")],
                  copies=["retry/max_elapsed_shortens_delay.json",
                          "retry/deadline_boundary.json"]),
    "retry_budget": dict(duration="window_ns", enum=("kind", "quota"),
                         wrong=[("ratio", "20%", "a double given as a percentage string")],
                         copies=["retry_budget/ratio/fractional_window_reserve.json"]),
    "bulkhead": dict(duration="max_hold_ns", enum=None,
                     wrong=[("fair", "yes", "a boolean given as a word"),
                            ("max_concurrent", -1, "a negative uint32_t")],
                     copies=["bulkhead/overdue_in_use_and_exits.json"]),
    "deadline": dict(duration="default_timeout_ns", enum=None,
                     wrong=[("min_budget_ns", "100ms", "a unit string under the _ns name")],
                     copies=["deadline/policy/min_budget_boundary.json"]),
}
NO_PRESETS = ("token_bucket", "leaky_bucket")


def main():
    for prim, spec in PRIMITIVES.items():
        what = prim.replace("_", " ")
        bad(prim, "unknown_key",
            f"JSON config: an unknown key is an error naming it (RSL_ERR_INVALID_CONFIG, field "
            f"\"bogus_key\"), never silently ignored; the message lists the {what}'s keys.",
            "bogus_key", config={"bogus_key": 1})
        if prim == "retry":
            bad(prim, "unknown_nested_key",
                "JSON config: an unknown key inside the nested backoff is named by its full path, "
                "backoff.bogus_key.", "backoff.bogus_key", config={"backoff": {"bogus_key": 1}})
            bad(prim, "nested_unit_missing",
                "JSON config: a nested backoff duration without a unit (\"base\": \"10\") is an "
                "error naming backoff.base.", "backoff.base", config={"backoff": {"base": "10"}})
            bad(prim, "nested_bad_enum_name",
                "JSON config: an unknown backoff kind name (\"kind\": \"random\") is an error "
                "naming backoff.kind.", "backoff.kind", config={"backoff": {"kind": "random"}})
            bad(prim, "nested_bad_preset_name",
                "JSON config: an unknown backoff preset inside the retry config "
                "(\"backoff\": {\"preset\": \"grpc\"} — grpc is a retry preset, the backoff one is "
                "grpc_retry) is an error naming backoff.preset.", "backoff.preset",
                config={"backoff": {"preset": "grpc"}})
        if prim in NO_PRESETS:
            bad(prim, "preset_not_available",
                f"JSON config: a {what} has no presets, so \"preset\" is an error naming it.",
                "preset", preset="default")
        else:
            bad(prim, "bad_preset_name",
                f"JSON config: an unknown preset name (\"preset\": \"nonsense\") is an error "
                f"naming preset; the message lists the {what}'s presets.", "preset",
                preset="nonsense")
            bad(prim, "preset_by_number",
                "JSON config: presets are names; a number (the C constant's value) is refused, "
                "naming preset.", "preset", config={"preset": 0})
        if spec["enum"]:
            key, good = spec["enum"]
            bad(prim, "bad_enum_name",
                f"JSON config: an unknown {key} name (\"{key}\": \"nonsense\") is an error naming "
                f"{key}; the message lists the names (\"{good}\", ...).", key,
                config={key: "nonsense"})
            bad(prim, "enum_case_sensitive",
                f"JSON config: names are lower case and exact; \"{good.upper()}\" is not \"{good}\".",
                key, config={key: good.upper()})
        for key, value, what_is_wrong in spec["wrong"]:
            bad(prim, "wrong_type_" + key,
                f"JSON config: {what_is_wrong} ({json.dumps({key: value})}) is a type error "
                f"naming {key}.", key, config={key: value})
        d = spec["duration"]
        if d:
            unit = d[:-3]
            bad(prim, "unit_unknown",
                f"JSON config: a duration with an unknown unit (\"{unit}\": \"60 parsecs\") is an "
                f"error naming {unit}.", unit, config={unit: "60 parsecs"})
            bad(prim, "unit_missing",
                f"JSON config: a duration string without a unit (\"{unit}\": \"60\") is an error "
                f"naming {unit}: every number needs a unit, even zero.", unit,
                config={unit: "60"})
            bad(prim, "unit_number",
                f"JSON config: the unit-less name takes a string with a unit; a bare number "
                f"(\"{unit}\": 60) is an error naming {unit} (nanoseconds go under {d}).", unit,
                config={unit: 60})
            bad(prim, "unit_fraction_below_ns",
                f"JSON config: a fraction must come to whole nanoseconds: \"{unit}\": \"1.5ns\" is "
                f"an error naming {unit}, not a rounded 1 or 2 ns.", unit,
                config={unit: "1.5ns"})
            bad(prim, "unit_string_under_ns_name",
                f"JSON config: {d} takes an integer count of nanoseconds; \"{d}\": \"60s\" is an "
                f"error naming {d} (write \"{unit}\": \"60s\").", d, config={d: "60s"})
            bad(prim, "both_duration_forms",
                f"JSON config: giving a duration both ways ({d} and {unit}), even with equal "
                f"values, is an error naming {unit}.", unit,
                config={d: 60_000_000_000, unit: "60s"})
        for source in spec["copies"]:
            with_units_copy(prim, source)
    # The token bucket has no durations: its JSON-only spellings instead.
    write("token_bucket", "inf_by_name",
          "JSON config: \"rate_per_sec\": \"inf\" is RSL_TOKEN_BUCKET_INF (x/time/rate's Inf): "
          "every request is allowed, burst or not, and tokens() stays at the burst.",
          config={"rate_per_sec": "inf", "burst": 0},
          steps=[{"at": 0, "op": "allow", "n": 1000, "expect": {"allowed": True}},
                 {"at": 0, "op": "settings", "expect": {"limit": 1.7976931348623157e308, "burst": 0}}])
    write("token_bucket", "integers_as_decimal_strings",
          "JSON config: any integer may also be a string of decimal digits (meant for values beyond "
          "2^53, which not every JSON parser reads exactly): \"burst\": \"3\" is burst 3.",
          config={"rate_per_sec": 0, "burst": "3"},
          steps=[{"at": 0, "op": "settings", "expect": {"limit": 0, "burst": 3}},
                 {"at": 0, "op": "allow", "n": 3, "expect": {"allowed": True}},
                 {"at": 0, "op": "allow", "n": 1, "expect": {"allowed": False}}])
    for prim, n in sorted(COUNT.items()):
        print(f"{prim}: {n}")


if __name__ == "__main__":
    main()
