#!/usr/bin/env python3
"""Writes src/cloud/aws/models/*.json: the AWS API models byoc calls, trimmed
to the operations it uses and rewritten from aws-sdk-js's compact form into
botocore's form (every shape named, `type` always present, the operation's
`name` and `http` always present), the one form src/cloud/aws/model.cc reads.

Source: the aws-sdk-js models in ../shared/vectors/aws-models (Apache-2.0;
see src/cloud/aws/models/SOURCES.md). Deterministic: run it again after
changing OPERATIONS and commit what it writes.

    scripts/trim-aws-models.py [MODELS_DIR]
"""
import json
import os
import sys

# What byoc calls, per service: model file stem -> operations.
OPERATIONS = {
    "sts-2011-06-15": ["AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"],
    "iam-2010-05-08": ["GetRole", "SimulatePrincipalPolicy"],
    "cloudformation-2010-05-15": ["CreateStack", "UpdateStack", "DeleteStack", "DescribeStacks",
                                  "DescribeStackEvents", "GetTemplate"],
    "ec2-2016-11-15": ["DescribeAddresses", "DescribeAvailabilityZones", "DescribeInstanceTypeOfferings",
                       "DescribeVpcs", "DescribeSubnets"],
    "eks-2017-11-01": ["DescribeCluster", "ListClusters", "UpdateClusterVersion", "ListNodegroups", "CreateNodegroup",
                       "DescribeNodegroup", "DeleteNodegroup", "UpdateNodegroupConfig", "UpdateAddon",
                       "DescribeAddon", "TagResource"],
    "service-quotas-2019-06-24": ["GetAWSDefaultServiceQuota", "GetServiceQuota"],
    "elasticloadbalancingv2-2015-12-01": ["DescribeLoadBalancers"],
}

# Members the SDKs leave to the caller but byoc has filled when missing, so a
# retried create or update is the same request (SerializeOptions fills
# members marked idempotencyToken): operation -> member.
IDEMPOTENCY_TOKENS = {
    "cloudformation-2010-05-15": {"CreateStack": "ClientRequestToken", "UpdateStack": "ClientRequestToken",
                                  "DeleteStack": "ClientRequestToken"},
}

# Traits that belong to a member reference as well as to its shape (botocore
# merges a reference's traits over its shape's).
MEMBER_TRAITS = {"location", "locationName", "queryName", "flattened", "xmlAttribute", "xmlNamespace",
                 "idempotencyToken", "jsonvalue", "hostLabel", "timestampFormat", "resultWrapper",
                 "payload", "streaming"}


class Trimmer:
    def __init__(self, model):
        self.source = model["shapes"]
        self.shapes = {}
        self.anonymous = 0

    def named(self, name):
        """Copies the named shape `name` (and what it reaches) once."""
        if name not in self.shapes:
            self.shapes[name] = None  # placeholder: recursive shapes stop here
            self.shapes[name] = self.shape(self.source[name])
        return name

    def ref(self, definition, hint):
        """A member reference in botocore form for an aws-sdk-js member definition."""
        traits = {k: v for k, v in definition.items() if k in MEMBER_TRAITS}
        if "shape" in definition:
            return {"shape": self.named(definition["shape"]), **traits}
        body = {k: v for k, v in definition.items() if k not in MEMBER_TRAITS or k == "flattened"}
        if set(body) <= {"type"}:  # a plain scalar: one shared shape per type
            kind = body.get("type", "string")
            name = "__" + kind
            self.shapes.setdefault(name, {"type": kind})
            return {"shape": name, **traits}
        name = hint
        while name in self.shapes or name in self.source:
            self.anonymous += 1
            name = f"{hint}{self.anonymous}"
        self.shapes[name] = None
        self.shapes[name] = self.shape(definition)
        return {"shape": name, **traits}

    def shape(self, definition):
        out = {k: v for k, v in definition.items() if k != "shape"}
        out.setdefault("type", "structure" if "members" in out else
                       "list" if "member" in out else "map" if "key" in out else "string")
        if out["type"] == "structure":
            out["members"] = {m: self.ref(d, f"{m}Shape") for m, d in sorted(out.get("members", {}).items())}
        elif out["type"] == "list":
            out["member"] = self.ref(out.get("member", {}), "Member")
        elif out["type"] == "map":
            out["key"] = self.ref(out.get("key", {}), "Key")
            out["value"] = self.ref(out.get("value", {}), "Value")
        return out


def trim(model, operations, tokens):
    trimmer = Trimmer(model)
    protocol = model["metadata"]["protocol"]
    ops = {}
    for name in operations:
        source = model["operations"][name]
        op = {"name": name, "http": source.get("http", {"method": "POST", "requestUri": "/"})}
        for part, suffix in (("input", "Request"), ("output", "Response")):
            if part in source:
                op[part] = trimmer.ref(source[part], name + suffix)
        if protocol in ("query", "ec2") and "input" not in op:
            op["input"] = trimmer.ref({"type": "structure", "members": {}}, name + "Request")
        if name in tokens:
            trimmer.shapes[op["input"]["shape"]]["members"][tokens[name]]["idempotencyToken"] = True
        ops[name] = op
    return {"version": "2.0", "metadata": model["metadata"], "operations": ops,
            "shapes": dict(sorted(trimmer.shapes.items()))}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    source_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "vectors", "aws-models")
    out_dir = os.path.join(here, "..", "src", "cloud", "aws", "models")
    for stem, operations in OPERATIONS.items():
        with open(os.path.join(source_dir, stem + ".min.json")) as f:
            model = json.load(f)
        service = stem.rsplit("-", 3)[0]
        with open(os.path.join(out_dir, service + ".json"), "w") as f:
            json.dump(trim(model, operations, IDEMPOTENCY_TOKENS.get(stem, {})), f, indent=1, sort_keys=False)
            f.write("\n")


if __name__ == "__main__":
    main()
