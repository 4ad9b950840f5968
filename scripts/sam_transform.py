#!/usr/bin/env python3
"""template.yaml as CloudFormation deploys it: SAM's own transform (aws-sam-translator, the code
`sam deploy` and CloudFormation run) after the template's AWS::LanguageExtensions transform, for
given parameter values. The local gateway reads its routes, authorizers, stage and gateway
responses from this output (tools/gateway/src/template.rs); scripts/check-sam-transform.py
checks the same output.

Usage: sam_transform.py [--parameter-overrides 'Name=Value ...'] [TEMPLATE] > template.cfn.json
  (default template.yaml; overrides as `sam deploy --parameter-overrides` takes them)

AWS::LanguageExtensions runs first on deploy and resolves intrinsic functions where it can
("CloudFormation language extensions support", AWS SAM Developer Guide: "intrinsic functions are
resolved where possible"); SAM itself resolves none in `Auth` ("Intrinsic functions for AWS
SAM"). `language_extensions` below does that part here: every `Ref` to a parameter, `Fn::If` on
the template's conditions, and `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::Join` whose inputs
are those, inside Resources and Globals; anything naming a resource or a pseudo parameter is
left as it is (CloudFormation resolves those on deploy; the gateway reads them structurally).
"""

import copy
import json
import logging
import os
import re
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REGION = "us-east-1"


class NoPolicies:
    """SAM resolves managed-policy names through IAM; this template names none by name."""

    def load(self):
        return {}


def load(path):
    """The template, intrinsics in their long form (`!Ref X` → {"Ref": "X"}), as SAM reads it."""
    with open(path, encoding="utf-8") as f:
        return yaml_parse(f.read())


def parameters(template, overrides=""):
    """Every parameter's value as deployed: its Default, or `Name=Value` from `overrides`
    (whitespace-separated; a value may hold commas). CloudFormation refuses a parameter the
    template does not declare, a value outside AllowedValues or AllowedPattern, a Number that is
    none or lies outside MinValue/MaxValue, and a parameter with neither Default nor value; so
    does this. Values are strings, as `Ref` hands them out ("Parameters", CloudFormation User
    Guide: a Number parameter's value "becomes a string" where it is used)."""
    declared = template.get("Parameters", {})
    values = {n: str(p["Default"]) for n, p in declared.items() if "Default" in p}
    for pair in overrides.split():
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"parameter override {pair!r} is not Name=Value")
        if name not in declared:
            raise ValueError(f"parameter override {name}: the template has no such parameter")
        values[name] = value
    for name, spec in declared.items():
        if name not in values:
            raise ValueError(f"parameter {name} has no Default and no override")
        value = values[name]
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(a) for a in allowed]:
            raise ValueError(f"parameter {name}={value!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ValueError(f"parameter {name}={value!r} does not match {pattern}")
        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"parameter {name}={value!r} is not a number") from None
            if number < float(spec.get("MinValue", number)) or \
                    number > float(spec.get("MaxValue", number)):
                raise ValueError(f"parameter {name}={value!r} is outside its MinValue/MaxValue")
    return values


def condition(name, template, params):
    """A condition of the template over its parameters (`Fn::Equals`, `Not`, `And`, `Or`)."""
    def holds(c):
        (fn, arg), = c.items()
        if fn == "Fn::Equals":
            left, right = (resolve(a, template, params) for a in arg)
            if not all(isinstance(v, str) for v in (left, right)):
                raise ValueError(f"condition {name}: Fn::Equals of {arg} is not over parameters")
            return left == right
        if fn == "Fn::Not":
            return not holds(arg[0])
        if fn == "Fn::And":
            return all(holds(a) for a in arg)
        if fn == "Fn::Or":
            return any(holds(a) for a in arg)
        if fn == "Condition":
            return holds(template["Conditions"][arg])
        raise ValueError(f"condition function {fn}")

    return holds(template["Conditions"][name])


SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def resolve(value, template, params):
    """`value` with each intrinsic whose inputs are parameters (or literals) replaced by what it
    resolves to; one that names a resource or a pseudo parameter stays, its arguments resolved."""
    if isinstance(value, list):
        return [resolve(v, template, params) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: resolve(v, template, params) for k, v in value.items()}
    (fn, arg), = value.items()
    if fn == "Ref":
        return params.get(arg, value) if isinstance(arg, str) else value
    if fn == "Fn::If":
        cond, then, otherwise = arg
        return resolve(then if condition(cond, template, params) else otherwise, template, params)
    arg = resolve(arg, template, params)

    def literal(v):
        return isinstance(v, str)

    if fn == "Fn::Sub":
        pattern, own = (arg, {}) if isinstance(arg, str) else arg
        known = {**params, **own}

        def name(m):
            v = m.group(1)
            return v if v.startswith("!") or literal(known.get(v)) else None

        if literal(pattern) and all(name(m) for m in SUB_VARIABLE.finditer(pattern)):
            return SUB_VARIABLE.sub(
                lambda m: "${" + m.group(1)[1:] + "}" if m.group(1).startswith("!")
                else known[m.group(1)], pattern)
    elif fn == "Fn::Split":
        delimiter, whole = arg
        if literal(delimiter) and literal(whole):
            return whole.split(delimiter)
    elif fn == "Fn::Select":
        index, items = arg
        if literal(index) or isinstance(index, int):
            if isinstance(items, list) and all(literal(i) for i in items):
                return items[int(index)]
    elif fn == "Fn::Join":
        delimiter, items = arg
        if isinstance(items, list) and all(literal(i) for i in items):
            return delimiter.join(items)
    return {fn: arg}


def language_extensions(template, params):
    """The template as AWS::LanguageExtensions hands it to SAM for these parameter values."""
    template = copy.deepcopy(template)
    for section in ["Globals", "Resources"]:
        if section in template:
            template[section] = resolve(template[section], template, params)
    return template


def translate(template, params):
    """SAM's transform of a template already through `language_extensions`."""
    template = copy.deepcopy(template)
    # SAM wants an S3 location where `sam build` would have put the code; the API is the same.
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://bucket/code.zip"
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    return transform(template, {**params, "AWS::Region": REGION}, NoPolicies())


def deployed(template, overrides=""):
    """What CloudFormation holds after both transforms, with `overrides` as deployed."""
    params = parameters(template, overrides)
    return translate(language_extensions(template, params), params)


def self_test():
    """What `resolve` and `parameters` must do, as CloudFormation does it ("Intrinsic function
    reference"; "Parameters"): the problems found, empty when all hold."""
    template = {
        "Parameters": {
            "Origins": {"Type": "String", "Default": "https://a.test,https://b.test"},
            "Mode": {"Type": "String", "Default": "token", "AllowedValues": ["token", "route"]},
            "Ttl": {"Type": "Number", "Default": 60, "MinValue": 0, "MaxValue": 3600},
            "Path": {"Type": "String", "Default": "", "AllowedPattern": "^(/[a-z]*)?$"},
        },
        "Conditions": {
            "ByRoute": {"Fn::Equals": [{"Ref": "Mode"}, "route"]},
            "NotByRoute": {"Fn::Not": [{"Condition": "ByRoute"}]},
        },
    }
    first = {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Origins"}]}]}
    cases = [
        ("", {"Fn::Sub": ["'${O}'", {"O": first}]}, "'https://a.test'"),
        ("Origins=http://x,http://y", {"Fn::Sub": ["'${O}'", {"O": first}]}, "'http://x'"),
        ("", {"Fn::Sub": "ttl=${Ttl} ${!Literal}"}, "ttl=60 ${Literal}"),
        ("", {"Fn::Join": ["-", [{"Ref": "Mode"}, "x"]]}, "token-x"),
        ("Mode=route", {"Fn::If": ["ByRoute", "r", "t"]}, "r"),
        ("", {"Fn::If": ["NotByRoute", "t", "r"]}, "t"),
        # What only a stack knows stays, its resolvable arguments resolved.
        ("", {"Fn::Sub": "${AWS::Region}:${Ttl}"}, {"Fn::Sub": "${AWS::Region}:${Ttl}"}),
        ("", {"Fn::GetAtt": ["Fn", "Arn"]}, {"Fn::GetAtt": ["Fn", "Arn"]}),
        ("", {"Fn::Sub": ["${A}", {"A": {"Ref": "Table"}}]},
         {"Fn::Sub": ["${A}", {"A": {"Ref": "Table"}}]}),
    ]
    found = []
    for overrides, value, want in cases:
        got = resolve(value, template, parameters(template, overrides))
        if got != want:
            found.append(f"{value} with {overrides!r}: {got!r}, expected {want!r}")
    for overrides in ["Nope=1", "Mode", "Mode=other", "Ttl=x", "Ttl=3601", "Path=nope"]:
        try:
            parameters(template, overrides)
            found.append(f"parameters {overrides!r} accepted")
        except ValueError:
            pass
    return found


def main(args):
    # The translator logs its feature toggles and metrics at WARNING: noise here.
    logging.disable(logging.WARNING)
    overrides = ""
    if args[:1] == ["--parameter-overrides"] and len(args) > 1:
        overrides, args = args[1], args[2:]
    path = args[0] if args else "template.yaml"
    try:
        output = deployed(load(path), overrides)
    except Exception as e:  # a bad parameter or template: one line, not a traceback
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    json.dump(output, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
