#!/usr/bin/env python3
"""The rules of template.yaml that cfn-lint cannot know, each named (docs/security.md, "IAM").

  kms-sign-by-tag            kms:Sign only on this account's and region's `key/*` with the
                             condition aws:ResourceTag/tokengate:stack = the stack name, never on
                             one key's ARN: keys made by `tokengate keys create` must sign too.
  no-public-key-fetch        no function may call kms:GetPublicKey (the keyring holds the public
                             keys; only the admin CLI fetches them).
  signing-key-tagged         every SIGN_VERIFY key of the template carries that tag.
  dynamodb-leading-keys      every DynamoDB grant has a ForAllValues dynamodb:LeadingKeys
                             condition, and no action that reads without a key (Scan, PartiQL,
                             a wildcard), for which a ForAllValues condition holds vacuously.
  authorizer-never-reads-users  no grant of the API's authorizer can reach a `user#` item.
  keyring-readable           every function with AWS access can read `keyring#signing`.
  actions-exist              every action is one IAM knows (cfn-lint's data): an action that
                             does not exist, like dynamodb:TransactWriteItems, grants nothing.
  names-from-stack           every physical name (alias, table, function, role, alarm, ...) is
                             built from AWS::StackName, so stacks do not collide.
  policies-in-template       a function's policies are inline statements or managed policies
                             of this template (a SAM policy template or a managed policy from
                             elsewhere could grant anything and is not checked).
  revokers-append-to-feed    every function that may revoke on the main table (UpdateItem that
                             reaches session# or principal#, PutItem that reaches deny#) may
                             PutItem `feed#` items of the revocation feed's table: its
                             transactions append an entry, and without the grant every logout
                             would fail.
  feed-append-only           the feed's table is only appended to (PutItem) and read by the
                             API's authorizer (Query): no update or delete rewrites what was
                             revoked, and no other function reads it.
  route-keyed-cache          a cached REQUEST authorizer (AuthorizerCache=route) is keyed by the
                             request's method and path (Context httpMethod and path): its
                             answers may cover the called route only (docs/route-rules.md).

Usage: check-template.py [--self-test] [TEMPLATE]   (default template.yaml)
--self-test also breaks a copy of the template once per rule and fails unless that rule, and
only that rule, catches it: a check that cannot fail checks nothing.
"""

import copy
import fnmatch
import json
import pathlib
import sys

from cfnlint.decode import cfn_yaml

TAG = "tokengate:stack"
STACK = {"Ref": "AWS::StackName"}
ANY_KEY = {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}
KEYRING = "keyring#signing"
FEED_TABLE = "RevocationFeedTable"
FEED_ACTIONS = {"dynamodb:putitem", "dynamodb:query"}
# Properties that set a physical name, unique per account and region (or worth keeping apart).
NAME_PROPERTIES = {
    "AliasName", "TableName", "FunctionName", "RoleName", "AlarmName", "LogGroupName",
    "BucketName", "QueueName", "TopicName", "ManagedPolicyName", "StateMachineName",
    "RuleName", "UserPoolName", "ApiKeyName", "KeyName",
}
NAMED_TYPES = {"AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::ApiGateway::RestApi"}
FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}


def as_list(value):
    return value if isinstance(value, list) else [value]


def iam_actions():
    data = pathlib.Path(cfn_yaml.__file__).parent.parent / "data/AdditionalSpecs/Policies.json"
    services = json.loads(data.read_text())
    return {f"{svc}:{action}" for svc, spec in services.items() for action in spec["Actions"]}


def allows(statement, action):
    """Whether the statement's Action patterns (IAM wildcards, case-insensitive) cover `action`."""
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in as_list(statement["Action"]))


def may_start_with(pattern, prefix):
    """Whether the IAM StringLike `pattern` matches some string that starts with `prefix`."""
    for i, c in enumerate(prefix):
        if i == len(pattern):
            return False
        if pattern[i] == "*":
            return True
        if pattern[i] not in ("?", c):
            return False
    return True


def leading_keys(statement):
    for op in ("ForAllValues:StringLike", "ForAllValues:StringEquals"):
        keys = statement.get("Condition", {}).get(op, {}).get("dynamodb:LeadingKeys")
        if keys:
            return op, as_list(keys)
    return None, []


def grants(template):
    """(owner, statement, problem) for every statement a function or role is granted — a
    managed policy of the template counts as its attachers' — and the problem of every policy
    that cannot be checked."""
    resources = template["Resources"]

    def managed(policy):
        ref = policy.get("Ref") if isinstance(policy, dict) else None
        if resources.get(ref, {}).get("Type") == "AWS::IAM::ManagedPolicy":
            return resources[ref]["Properties"]["PolicyDocument"]
        return None

    for name, res in resources.items():
        props = res.get("Properties", {})
        docs = []
        if res["Type"] == "AWS::Serverless::Function":
            for policy in as_list(props.get("Policies", [])):
                if isinstance(policy, dict) and set(policy) == {"Statement"}:
                    docs.append(policy)
                elif managed(policy):
                    docs.append(managed(policy))
                else:
                    yield name, None, f"policy {json.dumps(policy)} is not in this template"
        elif res["Type"] == "AWS::IAM::Role":
            docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
            docs += [managed(p) for p in props.get("ManagedPolicyArns", []) if managed(p)]
        elif res["Type"] == "AWS::IAM::Policy" or (
                res["Type"] == "AWS::IAM::ManagedPolicy"
                and any(props.get(k) for k in ("Roles", "Users", "Groups"))):
            docs = [props["PolicyDocument"]]
        for doc in docs:
            for st in as_list(doc["Statement"]):
                yield name, st, None


def authorizer_specs(template):
    """Every authorizer definition, both branches of an `Fn::If` switch included."""
    def branches(a):
        if isinstance(a, dict) and "Fn::If" in a:
            return [spec for b in a["Fn::If"][1:] for spec in branches(b)]
        return [a] if isinstance(a, dict) else []
    for res in template["Resources"].values():
        if res["Type"] in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
            auth = res.get("Properties", {}).get("Auth", {}).get("Authorizers", {})
            for name, a in auth.items():
                for spec in branches(a):
                    yield name, spec


def authorizers(template):
    found = set()
    for _, a in authorizer_specs(template):
        arn = a.get("FunctionArn", {})
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            found.add(as_list(arn["Fn::GetAtt"])[0].split(".")[0])
    return found


def on_feed(statement):
    """Whether the statement's resources include the revocation feed's table."""
    def names_feed(r):
        return isinstance(r, dict) and as_list(r.get("Fn::GetAtt", [""]))[0].split(".")[0] == FEED_TABLE
    return any(names_feed(r) or r == "*" for r in as_list(statement.get("Resource", [])))


def from_stack(value):
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = as_list(value["Fn::Sub"])[0]
        return isinstance(text, str) and "${AWS::StackName}" in text
    if isinstance(value, dict) and "Fn::Join" in value:
        return STACK in value["Fn::Join"][1]
    return False


def check(template):
    """The list of (rule, message) the template breaks."""
    problems = []
    known = iam_actions()
    auth = authorizers(template)
    can_read_keyring = set()
    with_access = set()
    revokes, appends_to_feed = set(), set()
    for owner, st, problem in grants(template):
        if problem:
            problems.append(("policies-in-template", f"{owner}: {problem}"))
            continue
        if st.get("Effect") != "Allow":
            continue
        with_access.add(owner)
        sid = f"{owner}/{st.get('Sid', '?')}"
        for action in as_list(st["Action"]):
            if "*" not in action and action.lower() not in {k.lower() for k in known}:
                problems.append(("actions-exist", f"{sid}: {action} is no IAM action"))
        if allows(st, "kms:Sign"):
            cond = st.get("Condition", {}).get("StringEquals", {})
            if as_list(st["Resource"]) != [ANY_KEY] or cond.get(f"aws:ResourceTag/{TAG}") != STACK:
                problems.append(("kms-sign-by-tag", f"{sid}: kms:Sign on "
                                 f"{json.dumps(st['Resource'])} without the stack's tag condition"))
        if allows(st, "kms:GetPublicKey"):
            problems.append(("no-public-key-fetch", f"{sid}: allows kms:GetPublicKey"))
        ddb = [a for a in as_list(st["Action"]) if a.lower().startswith("dynamodb:") or a == "*"]
        if not ddb:
            continue
        op, keys = leading_keys(st)
        if not keys or not all(isinstance(k, str) for k in keys):
            problems.append(("dynamodb-leading-keys", f"{sid}: no dynamodb:LeadingKeys condition"))
        keyless = [a for a in ddb if "*" in a or a.lower() in (
            "dynamodb:scan", "dynamodb:executestatement", "dynamodb:batchexecutestatement",
            "dynamodb:executetransaction", "dynamodb:partiqlselect")]
        if keyless:
            problems.append(("dynamodb-leading-keys", f"{sid}: {keyless} read without a key"))
        like = op == "ForAllValues:StringLike"
        reach = (lambda p, s: may_start_with(p, s)) if like else (lambda p, s: p.startswith(s))
        reaches = lambda prefix: not keys or any(  # noqa: E731
            reach(k, prefix) for k in keys if isinstance(k, str))
        if on_feed(st):
            others = [a for a in ddb if a.lower() not in FEED_ACTIONS]
            if others:
                problems.append(("feed-append-only", f"{sid}: {others} on the feed"))
            if allows(st, "dynamodb:Query") and owner not in auth:
                problems.append(("feed-append-only", f"{sid}: only the authorizer reads the feed"))
            if allows(st, "dynamodb:PutItem") and reaches("feed#"):
                appends_to_feed.add(owner)
        else:
            if (allows(st, "dynamodb:UpdateItem") and (reaches("session#") or reaches("principal#"))) \
                    or (allows(st, "dynamodb:PutItem") and reaches("deny#")):
                revokes.add(owner)
        # A grant without leading keys reaches every item, user# ones included.
        reaches_users = not keys or any(reach(k, "user#") for k in keys if isinstance(k, str))
        if owner in auth and reaches_users:
            problems.append(("authorizer-never-reads-users", f"{sid}: {keys} reach user# items"))
        if allows(st, "dynamodb:GetItem") and any(
                fnmatch.fnmatchcase(KEYRING, k) if like else k == KEYRING for k in keys):
            can_read_keyring.add(owner)
    functions = {n for n, r in template["Resources"].items() if r["Type"] in FUNCTION_TYPES}
    for owner in sorted((with_access & functions) - can_read_keyring):
        problems.append(("keyring-readable", f"{owner}: cannot GetItem {KEYRING}"))
    for owner in sorted(revokes - appends_to_feed):
        problems.append(("revokers-append-to-feed", f"{owner}: revokes without PutItem on feed#"))
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        for prop, value in props.items():
            if prop in NAME_PROPERTIES or (prop == "Name" and res["Type"] in NAMED_TYPES):
                if not from_stack(value):
                    problems.append(("names-from-stack", f"{name}.{prop} = {json.dumps(value)}"))
        if res["Type"] == "AWS::KMS::Key" and props.get("KeyUsage") == "SIGN_VERIFY":
            if {"Key": TAG, "Value": STACK} not in props.get("Tags", []):
                problems.append(("signing-key-tagged", f"{name}: no {TAG} tag with the stack name"))
    for name, spec in authorizer_specs(template):
        identity = spec.get("Identity", {})
        if spec.get("FunctionPayloadType") == "REQUEST" and identity.get("ReauthorizeEvery") != 0:
            if not {"httpMethod", "path"} <= set(identity.get("Context", [])):
                problems.append(("route-keyed-cache", f"{name}: a cached REQUEST authorizer "
                                 "not keyed by Context httpMethod and path"))
    return problems


def statement(template, owner, sid):
    """The statement `sid` of a function's inline policy or of a managed policy."""
    props = template["Resources"][owner]["Properties"]
    docs = [props["PolicyDocument"]] if "PolicyDocument" in props else props["Policies"]
    for doc in docs:
        for st in doc.get("Statement", []) if isinstance(doc, dict) else []:
            if st.get("Sid") == sid:
                return st
    raise KeyError(f"{owner}/{sid}")


def breakages():
    """(rule, description, change) — each change breaks exactly that rule."""

    def sign_one_key(t):
        statement(t, "SigningPolicy", "SignWithThisStacksKeys")["Resource"] = {
            "Fn::GetAtt": ["SigningKey", "Arn"]}

    def sign_untagged(t):
        del statement(t, "SigningPolicy", "SignWithThisStacksKeys")["Condition"]

    def sign_inline(t):
        login = t["Resources"]["LoginFunction"]["Properties"]["Policies"]
        login[0]["Statement"].append({"Effect": "Allow", "Action": "kms:Sign", "Resource": "*"})

    def fetch_public_keys(t):
        statement(t, "AuthorizerFunction", "ReadKeyring")["Action"] = [
            "dynamodb:GetItem", "kms:GetPublicKey"]

    def table_wide(t):
        del statement(t, "LogoutFunction", "DenyAccessTokens")["Condition"]

    def scan(t):
        statement(t, "LoginFunction", "ReadUserCountersKeyring")["Action"] = [
            "dynamodb:GetItem", "dynamodb:Scan"]

    def authorizer_reads_users(t):
        st = statement(t, "AuthorizerFunction", "ReadRevocationState")
        st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"].append("u*")

    def no_keyring(t):
        keys = statement(t, "JwksFunction", "ReadKeyring")["Condition"][
            "ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        # Another item in its place: the condition stays, only the keyring is out of reach.
        keys[keys.index(KEYRING)] = "keyring#old"

    def transact_action(t):
        statement(t, "RefreshFunction", "CountAndRotateSessions")["Action"] = [
            "dynamodb:UpdateItem", "dynamodb:TransactWriteItems"]

    def logout_without_feed(t):
        policies = t["Resources"]["LogoutFunction"]["Properties"]["Policies"][0]["Statement"]
        policies.remove(statement(t, "LogoutFunction", "AppendRevocationFeed"))

    def feed_rewritten(t):
        statement(t, "PasswordFunction", "AppendRevocationFeed")["Action"] = [
            "dynamodb:PutItem", "dynamodb:UpdateItem"]

    def refresh_reads_feed(t):
        statement(t, "RefreshFunction", "AppendRevocationFeed")["Action"] = [
            "dynamodb:PutItem", "dynamodb:Query"]

    def fixed_alias(t):
        t["Resources"]["SigningKeyAlias"]["Properties"]["AliasName"] = "alias/tokengate-signing"

    def untagged_key(t):
        del t["Resources"]["SigningKey"]["Properties"]["Tags"]

    def foreign_policy(t):
        t["Resources"]["RefreshFunction"]["Properties"]["Policies"].append(
            "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser")

    def sam_policy_template(t):
        t["Resources"]["JwksFunction"]["Properties"]["Policies"].append(
            {"DynamoDBReadPolicy": {"TableName": {"Ref": "TokengateTable"}}})

    def cache_by_token(t):
        switch = t["Resources"]["TokengateApi"]["Properties"]["Auth"]["Authorizers"][
            "TokengateAuthorizer"]["Fn::If"]
        switch[1]["Identity"]["Context"] = ["httpMethod"]

    return [
        ("kms-sign-by-tag", "the signing policy names the template's key ARN", sign_one_key),
        ("kms-sign-by-tag", "the signing policy has no tag condition", sign_untagged),
        ("kms-sign-by-tag", "login may also sign with any key", sign_inline),
        ("no-public-key-fetch", "the authorizer may fetch public keys", fetch_public_keys),
        ("dynamodb-leading-keys", "logout's PutItem is table-wide", table_wide),
        ("dynamodb-leading-keys", "login may Scan", scan),
        ("authorizer-never-reads-users", "the authorizer's batch read reaches u*",
         authorizer_reads_users),
        ("keyring-readable", "jwks cannot read the keyring", no_keyring),
        ("actions-exist", "refresh is granted dynamodb:TransactWriteItems", transact_action),
        ("revokers-append-to-feed", "logout cannot append to the feed", logout_without_feed),
        ("feed-append-only", "the password change may update feed items", feed_rewritten),
        ("feed-append-only", "refresh may read the feed", refresh_reads_feed),
        ("names-from-stack", "the signing alias is alias/tokengate-signing", fixed_alias),
        ("signing-key-tagged", "the signing key has no stack tag", untagged_key),
        ("policies-in-template", "jwks gets SAM's DynamoDBReadPolicy", sam_policy_template),
        ("policies-in-template", "refresh gets an AWS managed KMS policy", foreign_policy),
        ("route-keyed-cache", "AuthorizerCache=route keys by method alone", cache_by_token),
    ]


def main(args):
    self_test = "--self-test" in args
    paths = [a for a in args if a != "--self-test"]
    path = paths[0] if paths else "template.yaml"
    template = json.loads(json.dumps(cfn_yaml.load(path)))
    problems = check(template)
    for rule, message in problems:
        print(f"{path}: {rule}: {message}")
    failed = bool(problems)
    if self_test:
        for rule, what, change in breakages():
            broken = copy.deepcopy(template)
            change(broken)
            caught = {r for r, _ in check(broken)} - {r for r, _ in problems}
            ok = caught == {rule}
            failed |= not ok
            print(f"self-test {'ok' if ok else 'FAILED'}: {what} -> {sorted(caught) or 'nothing'}")
    if not failed:
        print(f"{path}: every template rule holds")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
