#!/usr/bin/env python3
"""extract.py - writes fields.txt, the protobuf field table the apiserver's decoder runs on.

Source of the facts: the descriptors Go's protobuf registration embeds (gzip-compressed
FileDescriptorProtos) in a Kubernetes v1.32 client binary such as kubectl, which carry field
numbers, types and gogoproto's `nullable` option (pointer vs value, which decides whether a zero
value was set on purpose). apiextensions.k8s.io/v1 is not linked into kubectl, so its facts are
written below by hand (from the v1.32 generated.proto and types.go). JSON names come from the
proto names, except where the OpenAPI schema (apiserver/openapi/swagger-v1.32.json) says
otherwise; a proto field whose name the schema lacks but whose message's fields it has is an
embedded (JSON-inlined) struct.

usage: extract.py [KUBECTL_BINARY] > apiserver/proto/fields.txt
"""
import json
import os
import re
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SWAGGER = os.path.join(HERE, "..", "openapi", "swagger-v1.32.json")

# group/version -> proto package, for every group-version the apiserver serves
GROUPS = [
    ("v1", "k8s.io.api.core.v1"),
    ("apps/v1", "k8s.io.api.apps.v1"),
    ("batch/v1", "k8s.io.api.batch.v1"),
    ("autoscaling/v1", "k8s.io.api.autoscaling.v1"),
    ("autoscaling/v2", "k8s.io.api.autoscaling.v2"),
    ("networking.k8s.io/v1", "k8s.io.api.networking.v1"),
    ("policy/v1", "k8s.io.api.policy.v1"),
    ("rbac.authorization.k8s.io/v1", "k8s.io.api.rbac.v1"),
    ("storage.k8s.io/v1", "k8s.io.api.storage.v1"),
    ("coordination.k8s.io/v1", "k8s.io.api.coordination.v1"),
    ("discovery.k8s.io/v1", "k8s.io.api.discovery.v1"),
    ("events.k8s.io/v1", "k8s.io.api.events.v1"),
    ("scheduling.k8s.io/v1", "k8s.io.api.scheduling.v1"),
    ("node.k8s.io/v1", "k8s.io.api.node.v1"),
    ("certificates.k8s.io/v1", "k8s.io.api.certificates.v1"),
    ("admissionregistration.k8s.io/v1", "k8s.io.api.admissionregistration.v1"),
    ("apiextensions.k8s.io/v1", "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1"),
    ("authentication.k8s.io/v1", "k8s.io.api.authentication.v1"),
    ("authorization.k8s.io/v1", "k8s.io.api.authorization.v1"),
    ("meta.k8s.io/v1", "k8s.io.apimachinery.pkg.apis.meta.v1"),
]
EXTRA_PKGS = [
    "k8s.io.apimachinery.pkg.runtime",
    "k8s.io.apimachinery.pkg.runtime.schema",
    "k8s.io.apimachinery.pkg.util.intstr",
    "k8s.io.apimachinery.pkg.api.resource",
]
# short aliases used inside fields.txt
ALIAS = {
    "k8s.io.api.core.v1": "core",
    "k8s.io.apimachinery.pkg.apis.meta.v1": "meta",
    "k8s.io.apimachinery.pkg.runtime": "runtime",
    "k8s.io.apimachinery.pkg.runtime.schema": "schema",
    "k8s.io.apimachinery.pkg.util.intstr": "intstr",
    "k8s.io.apimachinery.pkg.api.resource": "resource",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1": "apiextensions",
}
# messages whose JSON form is not an object (see proto.c)
SPECIAL = {
    "meta.Time": "time",
    "meta.MicroTime": "microtime",
    "meta.Duration": "duration",
    "meta.Verbs": "items",
    "authentication.ExtraValue": "items",
    "authorization.ExtraValue": "items",
    "certificates.ExtraValue": "items",
    "meta.FieldsV1": "rawjson",
    "runtime.RawExtension": "rawjson",
    "apiextensions.JSON": "rawjson",
    "resource.Quantity": "quantity",
    "intstr.IntOrString": "intorstring",
    "apiextensions.JSONSchemaPropsOrArray": "propsorarray",
    "apiextensions.JSONSchemaPropsOrBool": "propsorbool",
    "apiextensions.JSONSchemaPropsOrStringArray": "propsorstrings",
}
TYPES = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 8: "bool", 9: "string",
         12: "bytes", 13: "uint32", 17: "sint32", 18: "sint64"}


def alias(pkg):
    """Short name of a package in fields.txt: its group ("apps"), plus the version for groups
    served in two versions ("autoscaling1", "autoscaling2")."""
    if pkg not in ALIAS:
        group, version = pkg.split(".")[-2:]
        ALIAS[pkg] = group + version[1:] if group == "autoscaling" else group
    return ALIAS[pkg]


def varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def pbfields(b):
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i)
        f, w = k >> 3, k & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % w)
        out.append((f, v))
    return out


def descriptors(path):
    data = open(path, "rb").read()
    found = {}
    for m in re.finditer(b"\x1f\x8b\x08", data):
        try:
            out = zlib.decompressobj(31).decompress(data[m.start():m.start() + 4000000])
        except zlib.error:
            continue
        if len(out) > 2 and out[0] == 0x0A and out[2:2 + out[1]].endswith(b".proto"):
            found[out[2:2 + out[1]].decode()] = out
    return found


# messages[fullname] = list of (number, name, type, repeated, nullable, map) ; map = (k, v)
messages = {}


def load_message(pkg, prefix, raw):
    d = pbfields(raw)
    name = prefix + [v for f, v in d if f == 1][0].decode()
    nested = {}
    for f, v in d:
        if f == 3:
            sub = pbfields(v)
            opts = [x for x in sub if x[0] == 7]
            is_map = any(o for o in opts if (7, 1) in pbfields(o[1]))
            nm = [x for x in sub if x[0] == 1][0][1].decode()
            if is_map:
                kv = {}
                for ff, vv in sub:
                    if ff == 2:
                        fd = dict(pbfields(vv))
                        kv[fd[3]] = fd[6].decode().lstrip(".") if fd[5] == 11 else TYPES[fd[5]]
                nested[nm] = (kv[1], kv[2])
            else:
                load_message(pkg, name + ".", v)
    fields = []
    for f, v in d:
        if f != 2:
            continue
        fd = dict(pbfields(v))
        nullable = True
        for of, ov in pbfields(fd.get(8, b"")):
            if of == 65001:
                nullable = ov != 0
        t = fd[5]
        typ = fd[6].decode().lstrip(".") if t == 11 else TYPES[t]
        mp = None
        if t == 11 and typ.startswith(pkg + "." + name + ".") and typ.rsplit(".", 1)[1] in nested:
            mp = nested[typ.rsplit(".", 1)[1]]
        fields.append([fd[3], fd[1].decode(), typ, fd.get(4) == 3, nullable, mp])
    messages[pkg + "." + name] = fields


# apiextensions.k8s.io/v1 facts (v1.32): name -> [(number, name, type, flags)], flags: r repeated,
# p pointer (nullable), m map<string, type>; message types are relative to the package
APIEXT = {
    "ConversionRequest": [(1, "uid", "string", ""), (2, "desiredAPIVersion", "string", ""),
                          (3, "objects", "runtime.RawExtension", "r")],
    "ConversionResponse": [(1, "uid", "string", ""), (2, "convertedObjects", "runtime.RawExtension", "r"),
                           (3, "result", "meta.Status", "")],
    "ConversionReview": [(1, "request", "ConversionRequest", "p"), (2, "response", "ConversionResponse", "p")],
    "CustomResourceColumnDefinition": [(1, "name", "string", ""), (2, "type", "string", ""),
                                       (3, "format", "string", ""), (4, "description", "string", ""),
                                       (5, "priority", "int32", ""), (6, "jsonPath", "string", "")],
    "CustomResourceConversion": [(1, "strategy", "string", ""), (2, "webhook", "WebhookConversion", "p")],
    "CustomResourceDefinition": [(1, "metadata", "meta.ObjectMeta", ""),
                                 (2, "spec", "CustomResourceDefinitionSpec", ""),
                                 (3, "status", "CustomResourceDefinitionStatus", "")],
    "CustomResourceDefinitionCondition": [(1, "type", "string", ""), (2, "status", "string", ""),
                                          (3, "lastTransitionTime", "meta.Time", ""),
                                          (4, "reason", "string", ""), (5, "message", "string", "")],
    "CustomResourceDefinitionList": [(1, "metadata", "meta.ListMeta", ""),
                                     (2, "items", "CustomResourceDefinition", "r")],
    "CustomResourceDefinitionNames": [(1, "plural", "string", ""), (2, "singular", "string", ""),
                                      (3, "shortNames", "string", "r"), (4, "kind", "string", ""),
                                      (5, "listKind", "string", ""), (6, "categories", "string", "r")],
    "CustomResourceDefinitionSpec": [(1, "group", "string", ""), (3, "names", "CustomResourceDefinitionNames", ""),
                                     (4, "scope", "string", ""),
                                     (7, "versions", "CustomResourceDefinitionVersion", "r"),
                                     (9, "conversion", "CustomResourceConversion", "p"),
                                     (10, "preserveUnknownFields", "bool", "")],
    "CustomResourceDefinitionStatus": [(1, "conditions", "CustomResourceDefinitionCondition", "r"),
                                       (2, "acceptedNames", "CustomResourceDefinitionNames", ""),
                                       (3, "storedVersions", "string", "r")],
    "CustomResourceDefinitionVersion": [(1, "name", "string", ""), (2, "served", "bool", ""),
                                        (3, "storage", "bool", ""), (7, "deprecated", "bool", ""),
                                        (8, "deprecationWarning", "string", "p"),
                                        (4, "schema", "CustomResourceValidation", "p"),
                                        (5, "subresources", "CustomResourceSubresources", "p"),
                                        (6, "additionalPrinterColumns", "CustomResourceColumnDefinition", "r"),
                                        (9, "selectableFields", "SelectableField", "r")],
    "CustomResourceSubresourceScale": [(1, "specReplicasPath", "string", ""), (2, "statusReplicasPath", "string", ""),
                                       (3, "labelSelectorPath", "string", "p")],
    "CustomResourceSubresourceStatus": [],
    "CustomResourceSubresources": [(1, "status", "CustomResourceSubresourceStatus", "p"),
                                   (2, "scale", "CustomResourceSubresourceScale", "p")],
    "CustomResourceValidation": [(1, "openAPIV3Schema", "JSONSchemaProps", "p")],
    "ExternalDocumentation": [(1, "description", "string", ""), (2, "url", "string", "")],
    "JSON": [(1, "raw", "bytes", "")],
    "JSONSchemaProps": [
        (1, "id", "string", ""), (2, "schema", "string", ""), (3, "ref", "string", "p"),
        (4, "description", "string", ""), (5, "type", "string", ""), (6, "format", "string", ""),
        (7, "title", "string", ""), (8, "default", "JSON", "p"), (9, "maximum", "double", "p"),
        (10, "exclusiveMaximum", "bool", ""), (11, "minimum", "double", "p"),
        (12, "exclusiveMinimum", "bool", ""), (13, "maxLength", "int64", "p"),
        (14, "minLength", "int64", "p"), (15, "pattern", "string", ""), (16, "maxItems", "int64", "p"),
        (17, "minItems", "int64", "p"), (18, "uniqueItems", "bool", ""), (19, "multipleOf", "double", "p"),
        (20, "enum", "JSON", "r"), (21, "maxProperties", "int64", "p"), (22, "minProperties", "int64", "p"),
        (23, "required", "string", "r"), (24, "items", "JSONSchemaPropsOrArray", "p"),
        (25, "allOf", "JSONSchemaProps", "r"), (26, "oneOf", "JSONSchemaProps", "r"),
        (27, "anyOf", "JSONSchemaProps", "r"), (28, "not", "JSONSchemaProps", "p"),
        (29, "properties", "JSONSchemaProps", "m"), (30, "additionalProperties", "JSONSchemaPropsOrBool", "p"),
        (31, "patternProperties", "JSONSchemaProps", "m"),
        (32, "dependencies", "JSONSchemaPropsOrStringArray", "m"),
        (33, "additionalItems", "JSONSchemaPropsOrBool", "p"), (34, "definitions", "JSONSchemaProps", "m"),
        (35, "externalDocs", "ExternalDocumentation", "p"), (36, "example", "JSON", "p"),
        (37, "nullable", "bool", ""), (38, "xKubernetesPreserveUnknownFields", "bool", "p"),
        (39, "xKubernetesEmbeddedResource", "bool", ""), (40, "xKubernetesIntOrString", "bool", ""),
        (41, "xKubernetesListMapKeys", "string", "r"), (42, "xKubernetesListType", "string", "p"),
        (43, "xKubernetesMapType", "string", "p"), (44, "xKubernetesValidations", "ValidationRule", "r")],
    "JSONSchemaPropsOrArray": [(1, "schema", "JSONSchemaProps", "p"), (2, "jSONSchemas", "JSONSchemaProps", "r")],
    "JSONSchemaPropsOrBool": [(1, "allows", "bool", ""), (2, "schema", "JSONSchemaProps", "p")],
    "JSONSchemaPropsOrStringArray": [(1, "schema", "JSONSchemaProps", "p"), (2, "property", "string", "r")],
    "SelectableField": [(1, "jsonPath", "string", "")],
    "ServiceReference": [(1, "namespace", "string", ""), (2, "name", "string", ""), (3, "path", "string", "p"),
                         (4, "port", "int32", "p")],
    "ValidationRule": [(1, "rule", "string", ""), (2, "message", "string", ""),
                       (3, "messageExpression", "string", ""), (4, "reason", "string", "p"),
                       (5, "fieldPath", "string", ""), (6, "optionalOldSelf", "bool", "p")],
    "WebhookClientConfig": [(3, "url", "string", "p"), (1, "service", "ServiceReference", "p"),
                            (2, "caBundle", "bytes", "")],
    "WebhookConversion": [(2, "clientConfig", "WebhookClientConfig", "p"),
                          (3, "conversionReviewVersions", "string", "r")],
}
APIEXT_PKG = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1"
FULL = {"meta": "k8s.io.apimachinery.pkg.apis.meta.v1", "runtime": "k8s.io.apimachinery.pkg.runtime"}


def load_apiext():
    for name, flds in APIEXT.items():
        out = []
        for num, fname, typ, fl in flds:
            if typ not in TYPES.values():
                a, _, b = typ.rpartition(".")
                typ = (FULL[a] if a else APIEXT_PKG) + "." + b
            out.append([num, fname, typ, "r" in fl or "m" in fl, "p" in fl,
                        ("string", typ) if "m" in fl else None])
        messages[APIEXT_PKG + "." + name] = out


def swagger_name(full):
    if full.startswith("k8s.io.apiextensions_apiserver."):
        return "io.k8s.apiextensions-apiserver." + full[len("k8s.io.apiextensions_apiserver."):]
    return "io.k8s." + full[len("k8s.io."):]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/kubectl"
    for fname, raw in sorted(descriptors(binary).items()):
        d = pbfields(raw)
        pkg = [v for f, v in d if f == 2][0].decode()
        for f, v in d:
            if f == 4:
                load_message(pkg, "", v)
    load_apiext()
    defs = json.load(open(SWAGGER))["definitions"]

    wanted = [p for _, p in GROUPS] + EXTRA_PKGS
    keep = sorted(m for m in messages if m.rsplit(".", 1)[0] in wanted)
    # closure: every referenced message must be kept too
    for m in keep:
        for f in messages[m]:
            for t in ((f[5][1],) if f[5] else (f[2],)):
                if t and t not in TYPES.values() and t not in messages:
                    sys.exit("missing message %s (from %s)" % (t, m))
                if t and t in messages and t.rsplit(".", 1)[0] not in wanted:
                    sys.exit("%s refers to %s outside the kept packages" % (m, t))

    def short(t):
        if t in TYPES.values():
            return t
        pkg, _, n = t.rpartition(".")
        return alias(pkg) + "." + n

    notes = []
    out = []
    out.append("# Protobuf field table of the Kubernetes v1.32 API types the apiserver serves.")
    out.append("# Generated by apiserver/proto/extract.py; facts only (field numbers, names, types).")
    out.append("# G <apiVersion> <alias>      group-version -> package alias")
    out.append("# P <alias> <proto package>")
    out.append("# M <alias>.<Message> [special]   special: JSON form that is not an object")
    out.append("# <number> <name> <type> [rep] [ptr] [inline] [json=<JSON name>]")
    out.append("#   type: scalar, <alias>.<Message>, or map:<key>:<value>; ptr: a Go pointer (a")
    out.append("#   zero value was set on purpose); inline: an embedded struct whose JSON is merged")
    out.append("#   into its parent's")
    pk = sorted(set(m.rsplit(".", 1)[0] for m in keep))
    for p in pk:
        alias(p)
    for gv, p in GROUPS:
        out.append("G %s %s" % (gv, alias(p)))
    for p in pk:
        out.append("P %s %s" % (alias(p), p))
    for m in keep:
        pkg, _, n = m.rpartition(".")
        s = short(m)
        head = "M " + s + (" " + SPECIAL[s] if s in SPECIAL else "")
        out.append(head)
        sw = defs.get(swagger_name(m))
        props = (sw or {}).get("properties", {})
        for num, fname, typ, rep, nullable, mp in sorted(messages[m], key=lambda f: f[0]):
            flags = []
            if mp:
                typ_s = "map:%s:%s" % (short(mp[0]), short(mp[1]))
            else:
                typ_s = short(typ)
                if rep:
                    flags.append("rep")
                elif nullable and not (typ == "bytes"):
                    flags.append("ptr")
            jname = fname
            if sw and props and s not in SPECIAL:
                if fname not in props:
                    sub = messages.get(typ)
                    subdef = defs.get(swagger_name(typ), {}).get("properties", {}) if sub else {}
                    if sub and (all(sf[1] in props for sf in sub if sf[1] in subdef) if subdef
                                else all(sf[1] in props for sf in sub)):
                        flags.append("inline")
                    else:
                        cand = [k for k in props if re.sub(r"[^a-z]", "", k.lower()) ==
                                re.sub(r"[^a-z]", "", fname.lower()) or
                                re.sub(r"[^a-z]", "", k.lower()) == "xkubernetes" +
                                re.sub(r"[^a-z]", "", fname.lower())[len("xkubernetes"):]]
                        if fname == "description":
                            pass  # the trimmed schema lost properties named "description"
                        elif len(cand) == 1:
                            jname = cand[0]
                        else:
                            notes.append("%s.%s: not in the schema" % (s, fname))
            if jname != fname:
                flags.append("json=" + jname)
            out.append(" ".join([str(num), fname, typ_s] + flags))
    print("\n".join(out))
    for n in notes:
        print("note:", n, file=sys.stderr)


if __name__ == "__main__":
    main()
